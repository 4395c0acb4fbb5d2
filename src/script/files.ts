/**
 * Where the scenario tool's files are. This module sits two folders below dist/ (as
 * dist/src/script/files.js, or bundled into dist/src/blinkd/), so the package root is three
 * folders up from either; a module deeper down (sides/) would resolve wrongly in the bundle.
 */
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** The package root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** The TypeScript agent, run as its own Node.js process (never bundled). */
export const TS_AGENT = path.join(ROOT, "dist/src/script/agent.js");

/** The C agent's source, built with cc for the Linux and blink sides. */
export const C_AGENT_SOURCE = path.join(ROOT, "src/script/linux-agent.c");
