/**
 * `import.meta` in the command's CommonJS bundle (package.json "bundle": esbuild
 * --define:import.meta=__meta --inject of this file): what an ES module in the bundle's
 * folder sees, so that the paths modules find beside themselves (the preload, blink, the
 * package root) resolve as they do unbundled from dist/src/X/.
 */
import { pathToFileURL } from "node:url";

export const __meta = { url: pathToFileURL(__filename).href, dirname: __dirname, filename: __filename };
