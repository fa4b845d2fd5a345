/**
 * The Deno side of the shim builder (`shim_build.ts`): a {@link ShimBuildHost} over Deno's
 * synchronous file and process APIs, and a permission query that never prompts. Used by
 * `shim_cache.ts` (zxvm imported from a URL) and `scripts/build_shim.ts`.
 *
 * @module
 */
import type { RunOutcome, ShimBuildHost } from "./shim_build.ts";

/** A permission `Deno.permissions.querySync` can answer for the shim's build and load. */
export type DenoPermission =
  | { name: "ffi" }
  | { name: "env"; variable: string }
  | { name: "read"; path: string }
  | { name: "write"; path: string }
  | { name: "run"; command: string };

/**
 * Whether `desc` is granted, without ever prompting.
 *
 * @param desc the permission
 * @returns `true` only when it is granted (a query that throws counts as not granted)
 */
export function denoGranted(desc: DenoPermission): boolean {
  try {
    return Deno.permissions.querySync(desc).state === "granted";
  } catch {
    return false;
  }
}

/**
 * The shim builder's host on Deno. Environment variables are read only where `--allow-env`
 * grants them (`null` otherwise); file and process calls need the usual permissions and throw
 * `Deno.errors.NotCapable` without them, so callers query {@link denoGranted} first.
 *
 * @returns the host
 */
export function denoShimHost(): ShimBuildHost {
  return {
    os: Deno.build.os,
    arch: Deno.build.arch,
    env(name: string): string | undefined | null {
      if (!denoGranted({ name: "env", variable: name })) return null;
      const v = Deno.env.get(name);
      return v === "" ? undefined : v;
    },
    isFile(path: string): boolean {
      try {
        return Deno.statSync(path).isFile;
      } catch {
        return false;
      }
    },
    mkdirp(path: string): void {
      Deno.mkdirSync(path, { recursive: true });
    },
    makeTempDir(parent: string, prefix: string): string {
      return Deno.makeTempDirSync({ dir: parent, prefix });
    },
    writeText(path: string, text: string): void {
      Deno.writeTextFileSync(path, text);
    },
    rename(from: string, to: string): void {
      Deno.renameSync(from, to);
    },
    removeAll(path: string): void {
      Deno.removeSync(path, { recursive: true });
    },
    run(cmd: string, args: readonly string[]): RunOutcome {
      let out: Deno.CommandOutput;
      try {
        out = new Deno.Command(cmd, {
          args: [...args],
          stdin: "null",
          stdout: "null",
          stderr: "piped",
        }).outputSync();
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return { status: "not-found" };
        return { status: "error", message: e instanceof Error ? e.message : String(e) };
      }
      if (out.success) return { status: "ok" };
      return { status: "failed", code: out.code, stderr: new TextDecoder().decode(out.stderr) };
    },
  };
}
