// A request's body, read whole up to a limit: the gateway's 10 MB and the issuer's forms alike.
import type { IncomingMessage } from "node:http";

export class BodyTooLargeError extends Error {
  constructor(maxBytes: number) {
    super(`the request body is over ${maxBytes} bytes`);
    this.name = "BodyTooLargeError";
  }
}

/**
 * Resolves with the whole body, or rejects with BodyTooLargeError as soon as it passes
 * maxBytes (the rest is drained and dropped, so the connection can still be answered).
 */
export function readRequestBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        request.removeAllListeners("data");
        request.resume();
        reject(new BodyTooLargeError(maxBytes));
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}
