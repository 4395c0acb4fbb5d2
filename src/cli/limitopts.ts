/**
 * The daemon's limits as command-line options (serve and run), each documented in the README's
 * "Limits" table. Unset options keep the defaults of src/server/limits.ts, src/actors/kernel.ts
 * and src/actors/files.ts (re-exported by src/server/limits.ts).
 */
import { defaultFileLimits, defaultLimits, type Limits } from "../server/limits.js";
import { intOption } from "./args.js";

export const limitOptions = {
  "max-tasks": { type: "string" },
  "max-fds": { type: "string" },
  "max-files": { type: "string" },
  "max-connections": { type: "string" },
  "max-parked": { type: "string" },
  "max-frame": { type: "string" },
  "handshake-timeout-ms": { type: "string" },
  "frame-timeout-ms": { type: "string" },
} as const;

export const LIMIT_USAGE = "[--max-tasks N] [--max-fds N] [--max-files N] [--max-connections N] [--max-parked N] [--max-frame BYTES] [--handshake-timeout-ms MS] [--frame-timeout-ms MS]";

type Values = { readonly [K in keyof typeof limitOptions]?: string | undefined };

const defined = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

export function limitValues(v: Values): { kernel: { maxTasks?: number; files?: { maxFdsPerProcess: number; maxFiles: number } }; limits: Partial<Limits> } {
  const maxTasks = intOption(v["max-tasks"], "max-tasks", 1, 4194304);
  const maxFds = intOption(v["max-fds"], "max-fds", 1, 1 << 20);
  const maxFiles = intOption(v["max-files"], "max-files", 1, 1 << 24);
  const limits = defined({
    maxConnections: intOption(v["max-connections"], "max-connections", 1, 1 << 20),
    maxParked: intOption(v["max-parked"], "max-parked", 1, 1 << 16),
    maxFrame: intOption(v["max-frame"], "max-frame", 64, 1 << 30),
    handshakeTimeoutMs: intOption(v["handshake-timeout-ms"], "handshake-timeout-ms", 1, 3_600_000),
    frameTimeoutMs: intOption(v["frame-timeout-ms"], "frame-timeout-ms", 1, 3_600_000),
  }) as Partial<Limits>;
  const kernel: { maxTasks?: number; files?: { maxFdsPerProcess: number; maxFiles: number } } = {};
  if (maxTasks !== undefined) kernel.maxTasks = maxTasks;
  if (maxFds !== undefined || maxFiles !== undefined)
    kernel.files = { maxFdsPerProcess: maxFds ?? defaultFileLimits.maxFdsPerProcess, maxFiles: maxFiles ?? defaultFileLimits.maxFiles };
  void defaultLimits;
  return { kernel, limits };
}
