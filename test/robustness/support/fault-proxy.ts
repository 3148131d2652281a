// A small HTTP proxy in front of dynalite, switched between faults: pass-through, refuse
// (nothing listening), hang (accepts, never answers), throttle (DynamoDB's own throttling
// answers), delay, and "lose the answer" (forwards the request, then drops the response).
// The Lambda's real SDK client talks to it; nothing is mocked.
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type Fault =
  | { kind: "pass" }
  | { kind: "refuse" }
  | { kind: "hang" }
  | {
      kind: "throttle";
      errorType: "ThrottlingException" | "ProvisionedThroughputExceededException";
    }
  | { kind: "delay"; ms: number }
  | { kind: "lose-answer" };

/** Decides the fault for each request from its DynamoDB operation (X-Amz-Target), number and body. */
export type FaultPlan = (request: { operation: string; number: number; body: string }) => Fault;

export class FaultProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #held = new Set<ServerResponse>();
  #target = "";
  #port = 0;
  #plan: FaultPlan = () => ({ kind: "pass" });
  #listening = false;
  #number = 0;
  /** Requests received, by DynamoDB operation. */
  readonly seen = new Map<string, number>();
  /** Requests being held, delayed or forwarded right now. */
  inFlight = 0;

  constructor() {
    this.#server = createServer((req, res) => this.#handle(req, res));
    this.#server.on("connection", (socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async start(target: string): Promise<string> {
    this.#target = target;
    await this.#listen();
    return this.url;
  }

  /** One fault for every request from now on. */
  async set(fault: Fault): Promise<void> {
    await this.plan(() => fault);
  }

  /** A fault per request; "refuse" applies to the whole endpoint (nothing listens). */
  async plan(plan: FaultPlan): Promise<void> {
    this.#plan = plan;
    this.#number = 0;
    this.#dropConnections();
    const refuse = plan({ operation: "", number: 0, body: "" }).kind === "refuse";
    if (refuse && this.#listening) {
      await new Promise<void>((resolve) => this.#server.close(() => resolve()));
      this.#listening = false;
    } else if (!refuse && !this.#listening) {
      await this.#listen();
    }
  }

  async close(): Promise<void> {
    this.#dropConnections();
    if (this.#listening) await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#listening = false;
  }

  #dropConnections(): void {
    for (const response of this.#held) response.destroy();
    this.#held.clear();
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  async #listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(this.#port, "127.0.0.1", () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
    this.#listening = true;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const operation = String(req.headers["x-amz-target"] ?? "").split(".")[1] ?? "?";
    this.seen.set(operation, (this.seen.get(operation) ?? 0) + 1);
    const number = ++this.#number;
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const fault = this.#plan({ operation, number, body: body.toString("utf8") });
      switch (fault.kind) {
        case "hang":
          this.#held.add(res);
          res.on("close", () => this.#held.delete(res));
          return;
        case "throttle":
          res.writeHead(400, {
            "Content-Type": "application/x-amz-json-1.0",
            "x-amzn-RequestId": "ROBUSTNESSTESTREQUESTID",
          });
          res.end(
            JSON.stringify({
              __type: `com.amazonaws.dynamodb.v20120810#${fault.errorType}`,
              message:
                fault.errorType === "ThrottlingException"
                  ? "Rate of requests exceeds the allowed throughput."
                  : "The level of configured provisioned throughput for the table was exceeded.",
            }),
          );
          return;
        case "delay":
          this.inFlight++;
          setTimeout(() => this.#forward(req, res, body, false), fault.ms);
          return;
        case "lose-answer":
          this.inFlight++;
          this.#forward(req, res, body, true);
          return;
        default:
          this.inFlight++;
          this.#forward(req, res, body, false);
      }
    });
  }

  #forward(req: IncomingMessage, res: ServerResponse, body: Buffer, loseAnswer: boolean): void {
    const target = new URL(this.#target);
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("end", () => {
          this.inFlight--;
          if (loseAnswer) {
            // The write happened; its answer never reaches the client.
            res.socket?.destroy();
            return;
          }
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          res.end(Buffer.concat(chunks));
        });
      },
    );
    upstream.on("error", () => {
      this.inFlight--;
      res.socket?.destroy();
    });
    upstream.end(body);
  }
}
