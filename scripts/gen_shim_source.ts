/**
 * Regenerates only the embedded shim source `src/backend/shim_source.ts` from `ffi/zxshim.c`,
 * `ffi/zxshim.h` and `deno.json`'s version, without compiling anything. `scripts/build_shim.ts`
 * does the same on every build (it owns the renderer, `renderShimSource`); this entry point is
 * for machines without a C compiler.
 *
 * ```sh
 * deno run --allow-read --allow-write scripts/gen_shim_source.ts
 * ```
 *
 * @module
 */
import { SHIM_SOURCE_MODULE, writeShimSource } from "./build_shim.ts";

if (import.meta.main) {
  const root = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");
  const wrote = writeShimSource(root);
  console.log(wrote ? `wrote ${SHIM_SOURCE_MODULE}` : `${SHIM_SOURCE_MODULE} is up to date`);
}
