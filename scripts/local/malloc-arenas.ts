// glibc gives each thread that allocates its own malloc arena (up to 8 per core), and a
// runtime of worker threads, each with its own V8 heap, C++ allocations and JSON buffers,
// keeps pages in every one of them. Two arenas hold the same load in less memory: measured
// on 2 cores, 30,000 requests at 16 connections (bench's memory mix), peak RSS 265 MB with
// glibc's default and 222 MB with MALLOC_ARENA_MAX=2, at the same requests per second
// (736 vs 725). glibc reads the variable only when the process starts, so the process
// replaces itself once with it set: process.execve keeps the PID, the stdio and the
// arguments, and costs one more start of Node (tens of milliseconds).

/** The arena cap the runtime runs with unless MALLOC_ARENA_MAX is set already. */
export const mallocArenaMax = "2";

/**
 * Call before importing anything large: on Linux without MALLOC_ARENA_MAX this never returns
 * (the process starts again with it); elsewhere, or once set, it does nothing.
 */
export function capMallocArenas(): void {
  if (process.platform !== "linux" || process.env.MALLOC_ARENA_MAX !== undefined) return;
  if (typeof process.execve !== "function") return;
  process.execve(
    process.execPath,
    [process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    { ...process.env, MALLOC_ARENA_MAX: mallocArenaMax },
  );
}
