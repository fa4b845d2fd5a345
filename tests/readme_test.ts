/**
 * The README's "Testing your code" example runs as written: its code blocks are written to a
 * temporary directory (each block's first line names its file), the `zxvm` and `zxvm/testing`
 * specifiers are pointed at this checkout, and `deno test` runs them in a fresh process. So the
 * README cannot drift from the kit. Deno only (skipped under Node).
 *
 * @module
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { leakGuard } from "./support/leaks.ts";

const isDeno = typeof Deno !== "undefined" && typeof Deno.Command === "function";

/** The fenced `ts` blocks of the README section headed `heading`, keyed by their file name. */
export function readmeBlocks(readme: string, heading: string): Map<string, string> {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README has no "## ${heading}" section`);
  const next = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, next < 0 ? undefined : next);
  const files = new Map<string, string>();
  for (const m of section.matchAll(/```ts\n([\s\S]*?)```/g)) {
    const name = /^\/\/ ([\w.-]+\.ts)\b/.exec(m[1])?.[1];
    if (name === undefined) throw new Error(`a code block does not name its file:\n${m[1]}`);
    files.set(name, m[1]);
  }
  return files;
}

describe("README: Testing your code", () => {
  leakGuard();
  it("its example passes under deno test", {
    skip: isDeno ? false : "needs Deno.Command",
    timeout: 120_000,
  }, async () => {
    const root = new URL("..", import.meta.url);
    const readme = readFileSync(new URL("README.md", root), "utf8");
    const files = readmeBlocks(readme, "Testing your code");
    assert.ok(
      files.has("page_cache.ts") && files.has("page_cache_test.ts"),
      [...files.keys()].join(),
    );
    const dir = mkdtempSync(join(tmpdir(), "zxvm-readme-"));
    try {
      const mod = new URL("mod.ts", root).href;
      const testing = new URL("testing.ts", root).href;
      for (const [name, code] of files) {
        const src = code.replaceAll('from "zxvm/testing"', `from "${testing}"`)
          .replaceAll('from "zxvm"', `from "${mod}"`);
        writeFileSync(join(dir, name), src);
      }
      const r = await new Deno.Command(Deno.execPath(), {
        args: ["test", "--no-config", "page_cache_test.ts"],
        cwd: dir,
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
      assert.equal(r.code, 0, out);
      assert.match(out, /ok \| 2 passed/, out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
