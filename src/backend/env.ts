/**
 * Runtime-neutral access to environment variables that never prompts and never throws:
 * under Deno without `--allow-env` for a variable, the variable reads as unset.
 *
 * @module
 */

interface DenoLike {
  permissions?: { querySync?(d: { name: string; variable?: string }): { state: string } };
  env?: { get(name: string): string | undefined };
}

/** The value of environment variable `name`, or `undefined` (unset or not permitted). */
export function getEnv(name: string): string | undefined {
  const d = (globalThis as { Deno?: DenoLike }).Deno;
  if (d?.env !== undefined) {
    try {
      const st = d.permissions?.querySync?.({ name: "env", variable: name }).state;
      if (st !== undefined && st !== "granted") return undefined;
      return d.env.get(name);
    } catch {
      return undefined;
    }
  }
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return p?.env?.[name];
}
