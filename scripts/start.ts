// npm start: the local runtime (scripts/local/, which knows nothing of todos) serving this
// project's template, with the sample todos of scripts/seed.ts in a table it creates. They
// are alice's (the local user README's examples sign in as), unless SEED_OWNER names a sub.
import { capMallocArenas } from "./local/malloc-arenas.ts";

// Before the runtime's modules load: this may start the process again (same PID).
capMallocArenas();

const { runCli } = await import("./local/cli.ts");
const { seedSampleTodos } = await import("./seed.ts");

await runCli(process.argv.slice(2), {
  command: "npm start --",
  seed: {
    description: "sample todos (alice's)",
    run: (target) => seedSampleTodos(target, process.env.SEED_OWNER || target.subjectOf?.("alice")),
  },
  tokenCommand:
    'TOKEN=$(npm run -s token -- alice)   (for curl: -H "Authorization: Bearer $TOKEN")',
});
