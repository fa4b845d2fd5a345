/**
 * Hostile cases for `Channel` and the members that make channels: `Kernel.createChannel`,
 * `Channel.create`, `write`, `read`, the async iterator, `type`, and `Handle` members on
 * channel receivers (`duplicate`/`replace`, the accessors); and scenarios where handles are
 * consumed, which a state-unchanged check cannot express.
 *
 * A failed `write` consumes the handles it was given, so the write cases pass fresh handles
 * (made after the state snapshot) and close what is left of them afterwards: the check then
 * sees exactly the state before — and the scenarios check what was consumed.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  Channel,
  ChannelOptions,
  type ChannelToken,
  Handle,
  Kernel,
  Rights,
  Signals,
  Vmo,
  ZxStatus,
} from "../../../testing.ts";
import {
  aliens,
  closeOther,
  type Fixture,
  getter,
  IGNORED,
  invoke,
  type Method,
  on,
  P,
  type Receiver,
  type Scenario,
  throwsStatus,
} from "./runner.ts";
import { detached, type Expect, freshToken } from "./values.ts";

const DATA = new Uint8Array([1, 2, 3, 4]);
const closePeer = (f: Fixture): void => f.chPeer.close();
/** One 4-byte message with one VMO handle, queued for `chPeer` (a read receiver's setup). */
const queueOne = (f: Fixture): void => f.ch.write(DATA, [f.k.createVmo(P)]);

/** Close every handle of `hs` that is still open (what a write did not consume). */
function closeAll(hs: unknown): void {
  if (!Array.isArray(hs)) return;
  for (const h of hs) {
    try {
      (h as Handle).close();
    } catch { /* not a handle */ }
  }
}

/** Receivers of a `Channel` method that are not live endpoints of the fixture's kernel. */
function channelOthers(): Receiver[] {
  return [
    { label: "a closed endpoint", get: (f) => f.closedCh, expect: "BAD_HANDLE" },
    {
      label: "a closed kernel's endpoint",
      get: (f) => f.foreignCh,
      setup: closeOther,
      expect: "BAD_HANDLE",
    },
    { label: "a VMO (wrong type)", get: (f) => f.vmo, expect: "WRONG_TYPE" },
    { label: "the root VMAR (wrong type)", get: (f) => f.root, expect: "WRONG_TYPE" },
    ...aliens(
      ["a mapping", (f) => f.map],
      ["a kernel", (f) => f.k],
      ["Channel.prototype", () => Channel.prototype],
    ),
  ];
}

/**
 * Handle lists bound to the fixture that create nothing (a case's values are made after the
 * state snapshot, so fresh handles would count as a change), each with its outcome on `ch`.
 * Lists of fresh handles are in the scenarios.
 */
function handleLists(f: Fixture): Array<[unknown, Expect]> {
  return [
    [[], "ok"],
    [[f.closedVmo], "BAD_HANDLE"],
    [[f.closedCh], "BAD_HANDLE"],
    [[f.foreignVmo], "BAD_HANDLE"],
    [[f.foreignCh], "BAD_HANDLE"],
    [[f.other.rootVmar], "BAD_HANDLE"],
    [[f.closedVmo, f.closedVmo], "BAD_HANDLE"],
    [[f.root], "NOT_SUPPORTED"], // the borrowed root VMAR: refused, never consumed
    [[f.root, f.closedVmo], "NOT_SUPPORTED"], // the first failure decides
    [[f.closedVmo, f.root], "BAD_HANDLE"],
  ];
}

/** `write(bytes, handles, options)`. */
function writeMethod(): Method {
  return {
    name: "Channel.write",
    params: [
      {
        name: "bytes",
        kind: "bytes",
        extra: () => [
          [new Uint8Array(0), "ok"],
          [new Uint8Array(65536), "ok"],
          [new Uint8Array(65537), "OUT_OF_RANGE"],
          [detached(), "ok"],
          [new Uint8Array(16).subarray(4, 8), "ok"],
          [new Uint8Array(new SharedArrayBuffer(4)), "ok"],
        ],
      },
      { name: "handles", kind: "handles", optional: true, extra: handleLists },
      {
        name: "options",
        kind: "u32",
        optional: true,
        extra: () => [
          [1, "INVALID_ARGS"],
          [ChannelOptions.WriteUseIovec, "NOT_SUPPORTED"],
          [ChannelOptions.WriteUseIovec | 1, "INVALID_ARGS"],
          [0x80000000, "INVALID_ARGS"],
        ],
      },
    ],
    valid: () => [DATA, [], 0],
    call: (r, a) => invoke(Channel.prototype.write, r, ...a),
    receivers: [
      on("an endpoint", (f) => f.ch),
      {
        label: "an endpoint whose peer closed",
        get: (f) => f.ch,
        setup: closePeer,
        expect: "PEER_CLOSED",
      },
      on("an endpoint without WRITE", (f) => f.chLimited, "ACCESS_DENIED"),
      ...channelOthers(),
    ],
  };
}

/** `read(options, numBytes, numHandles)` on a queue holding 4 bytes and 1 handle. */
function readMethod(): Method {
  const queued = (label: string, get: (f: Fixture) => unknown, expect: Expect): Receiver => ({
    label,
    get,
    setup: queueOne,
    expect,
  });
  return {
    name: "Channel.read",
    params: [
      {
        name: "options",
        kind: "u32",
        optional: true,
        extra: () => [
          [ChannelOptions.ReadMayDiscard, "ok"],
          [2, "NOT_SUPPORTED"],
          [3, "NOT_SUPPORTED"],
          [0x80000000, "NOT_SUPPORTED"],
        ],
      },
      {
        name: "numBytes",
        kind: "u32",
        optional: true,
        extra: () => [[0, "BUFFER_TOO_SMALL"], [3, "BUFFER_TOO_SMALL"], [4, "ok"]],
      },
      {
        name: "numHandles",
        kind: "u32",
        optional: true,
        extra: () => [[0, "BUFFER_TOO_SMALL"], [1, "ok"], [0xFFFFFFFF, "ok"]],
      },
    ],
    valid: () => [0, 64, 8],
    call: (r, a) => {
      const m = invoke(Channel.prototype.read, r, ...a) as { handles: Handle[] };
      closeAll(m.handles);
    },
    receivers: [
      queued("an endpoint with a message", (f) => f.chPeer, "ok"),
      on("an empty endpoint", (f) => f.chPeer, "SHOULD_WAIT"),
      {
        label: "an empty endpoint whose peer closed",
        get: (f) => f.chPeer,
        setup: (f) => f.ch.close(),
        expect: "PEER_CLOSED",
      },
      on("an endpoint without READ", (f) => f.chLimited, "ACCESS_DENIED"),
      ...channelOthers(),
    ],
  };
}

/** `Kernel.createChannel(options, peer)` and the static `Channel.create(options)`. */
function createMethods(): Method[] {
  const closePair = (r: unknown): void => closeAll(r);
  const createChannel: Method = {
    name: "Kernel.createChannel",
    params: [
      {
        name: "options",
        kind: "u32",
        optional: true,
        extra: () => [[0, "ok"], [1, "INVALID_ARGS"], [0x80000000, "INVALID_ARGS"]],
      },
      {
        name: "peer",
        kind: "kernel",
        optional: true,
        extra: (f) => [[f.k, "ok"], [f.other, "ok"], [undefined, "ok"]],
      },
    ],
    valid: (f) => [0, f.other],
    call: (r, a) => closePair(invoke(Kernel.prototype.createChannel, r, ...a)),
    receivers: [
      on("a kernel", (f) => f.k),
      { label: "with a closed peer", get: (f) => f.k, setup: closeOther, expect: "BAD_STATE" },
      { label: "a closed kernel", get: (f) => f.other, setup: closeOther, expect: "BAD_STATE" },
      ...aliens(["a VMO", (f) => f.vmo], ["Kernel.prototype", () => Kernel.prototype]),
    ],
  };
  const create: Method = {
    name: "Channel.create",
    params: [{ name: "options", kind: "u32", optional: true, extra: () => [[1, "INVALID_ARGS"]] }],
    valid: () => [0],
    call: (r, a) => closePair(invoke(Channel.create, r, ...a)),
    // A static that does not read `this`: any receiver gets the default kernel's channel.
    receivers: [on("Channel", () => Channel), on("a plain object", () => ({}))],
  };
  return [createChannel, create];
}

/** The async iterator (its checks are synchronous; reads happen on `next()`), and `type`. */
function otherMethods(): Method[] {
  const iter: Method = {
    name: "Channel[Symbol.asyncIterator]",
    params: [IGNORED],
    valid: () => [],
    call: (r, a) => {
      invoke(Channel.prototype[Symbol.asyncIterator], r, ...a);
    },
    receivers: [
      on("an endpoint", (f) => f.ch),
      // Reads happen in next(): a closed endpoint's iterator is made, its first next() fails.
      on("a closed endpoint", (f) => f.closedCh),
      on("a VMO", (f) => f.vmo, "TypeError"),
      ...aliens(["a kernel", (f) => f.k], ["Channel.prototype", () => Channel.prototype]),
    ],
  };
  const g = getter(Channel.prototype, "type");
  const type: Method = {
    name: "Channel.type",
    params: [],
    valid: () => [],
    call: (r) => {
      const t = g(r);
      if (t !== "channel") throw new Error(`type is ${String(t)}`);
    },
    receivers: [
      on("an endpoint", (f) => f.ch),
      on("a closed endpoint", (f) => f.closedCh),
      on("a plain object", () => ({})),
    ],
  };
  return [iter, type];
}

/** `Handle` members on channel receivers: no DUPLICATE; replace consumes; the accessors. */
function handleMembers(): Method[] {
  const dup: Method = {
    name: "Handle.duplicate (channel)",
    params: [{ name: "rights", kind: "u32", optional: true, extra: () => [[0, "ACCESS_DENIED"]] }],
    valid: () => [Rights.Transfer],
    call: (r, a) => invoke(Channel.prototype.duplicate, r, ...a),
    receivers: [on("an endpoint", (f) => f.ch, "ACCESS_DENIED"), ...channelOthers().slice(0, 2)],
  };
  const replace: Method = {
    name: "Handle.replace (channel)",
    params: [{
      name: "rights",
      kind: "u32",
      optional: true,
      extra: () => [
        [Rights.Duplicate, "INVALID_ARGS"],
        [Rights.DefaultChannel, "ok"],
        [0, "ok"],
        [Rights.SameRights, "ok"],
      ],
    }],
    valid: () => [Rights.Read | Rights.Write],
    call: (r, a) => invoke(Channel.prototype.replace, r, ...a),
    receivers: [
      { ...on("an endpoint", (f) => f.chR), consumes: "chR" },
      ...channelOthers().slice(0, 2),
    ],
  };
  const accessors = ([
    ["koid", "ok"],
    ["rights", "ok"],
    ["signals", "ok"],
    ["name", "ACCESS_DENIED"], // no GET_PROPERTY on channel handles
  ] as const).map(([key, expect]): Method => {
    const g = getter(Handle.prototype, key);
    return {
      name: `Handle.${key} (channel)`,
      params: [],
      valid: () => [],
      call: (r) => g(r),
      receivers: [
        on("an endpoint", (f) => f.ch, expect),
        on("an endpoint without READ/WRITE", (f) => f.chLimited, expect),
        on("a closed endpoint", (f) => f.closedCh, "BAD_HANDLE"),
      ],
    };
  });
  return [dup, replace, ...accessors];
}

/** `Channel.export` and `Kernel.importChannel` (channels across realms). */
function realmMethods(): Method[] {
  const exportMethod: Method = {
    name: "Channel.export",
    params: [IGNORED],
    valid: () => [],
    call: (r, a) => {
      const t = invoke(Channel.prototype.export, r, ...a) as ChannelToken;
      t.port.close();
    },
    receivers: [
      on("an endpoint", (f) => f.chR),
      on("an endpoint without READ/WRITE", (f) => f.chLimited),
      ...channelOthers(),
    ],
  };
  const importMethod: Method = {
    name: "Kernel.importChannel",
    params: [{
      name: "token",
      kind: "token",
      extra: () => [
        [freshToken(Rights.Transfer), "ok"],
        [freshToken(Rights.Duplicate), "INVALID_ARGS"],
        [freshToken(Rights.SameRights), "INVALID_ARGS"],
      ],
    }],
    valid: () => [freshToken()],
    call: (r, a) => invoke(Kernel.prototype.importChannel, r, ...a),
    receivers: [
      on("a kernel", (f) => f.k),
      { label: "a closed kernel", get: (f) => f.other, setup: closeOther, expect: "BAD_STATE" },
      ...aliens(["a VMO", (f) => f.vmo], ["Kernel.prototype", () => Kernel.prototype]),
    ],
  };
  return [exportMethod, importMethod];
}

/** Every hostile `Channel` method (and the kernel's `createChannel`). */
export function channelMethods(): Method[] {
  return [
    writeMethod(),
    readMethod(),
    ...createMethods(),
    ...otherMethods(),
    ...handleMembers(),
    ...realmMethods(),
  ];
}

/** What a failed write consumed, what a read hands back, and constructors. */
export function channelScenarios(): Scenario[] {
  return [
    {
      name: "Channel.write: every listed handle is consumed on failure; the root VMAR stays",
      run: (f) => {
        const fresh = (n: number): Handle[] => Array.from({ length: n }, () => f.k.createVmo(P));
        const v = f.k.createVmo(P);
        const cases: Array<[ZxStatus, Handle[]]> = [
          [ZxStatus.ErrBadHandle, [...fresh(1), f.closedVmo]],
          [ZxStatus.ErrBadHandle, [v, v]],
          [ZxStatus.ErrBadHandle, [...fresh(1), f.foreignVmo]],
          [ZxStatus.ErrAccessDenied, [f.k.createVmo(P).replace(Rights.Read), ...fresh(1)]],
          [ZxStatus.ErrNotSupported, [...fresh(1), f.vmar]],
          [ZxStatus.ErrNotSupported, [...fresh(1), f.root]],
          [ZxStatus.ErrOutOfRange, fresh(65)],
        ];
        for (const [status, hs] of cases) {
          throwsStatus(() => f.ch.write(DATA, hs), status, `write → ${status}`);
          for (const h of hs) {
            const stays = h === f.root || h === f.foreignVmo;
            assert.equal(h.valid, stays, `${h.type} ${stays ? "stays" : "consumed"}`);
          }
        }
        assert.equal(f.chPeer.signals, Signals.ChannelWritable, "nothing was queued");
        f.ch.write(DATA, [...fresh(63), f.k.createChannel()[0]]); // 64 handles fit
        const got = f.chPeer.read();
        assert.equal(got.handles.length, 64);
        closeAll(got.handles);
        // TypeErrors for bytes and options consume the list too; one for the list, nothing.
        const w = f.k.createVmo(P);
        assert.throws(() => f.ch.write("x" as unknown as Uint8Array, [w]), TypeError);
        assert.equal(w.valid, false);
        const x = f.k.createVmo(P);
        assert.throws(() => f.ch.write(DATA, [x], "0" as unknown as number), TypeError);
        assert.equal(x.valid, false);
        const y = f.k.createVmo(P);
        assert.throws(() => f.ch.write(DATA, [y, 5] as unknown as Handle[]), TypeError);
        assert.equal(y.valid, true);
        y.close();
      },
    },
    {
      name: "Channel.write of the endpoint itself: NOT_SUPPORTED, consumed, the peer sees it close",
      run: (f) => {
        throwsStatus(() => f.ch.write(DATA, [f.ch]), ZxStatus.ErrNotSupported, "self");
        assert.equal(f.ch.valid, false);
        assert.equal(f.chPeer.signals, Signals.ChannelPeerClosed);
      },
    },
    {
      name: "Channel.read returns fresh Vmo and Channel objects of the reader's kernel",
      run: (f) => {
        const [x, y] = f.k.createChannel();
        f.ch.write(DATA, [f.k.createVmo(P), x]);
        const m = f.chPeer.read();
        assert.deepEqual(Array.from(m.bytes), [1, 2, 3, 4]);
        assert.ok(m.handles[0] instanceof Vmo && m.handles[1] instanceof Channel);
        assert.ok(m.handles.every((h) => h.kernel === f.k && h.valid));
        for (const h of m.handles) h.close();
        assert.equal(y.signals, Signals.ChannelPeerClosed);
        y.close();
      },
    },
    {
      name: "the Channel constructor is not for users",
      run: (f) => {
        assert.throws(
          () => Reflect.construct(Channel, [f.k, f.ch.raw, Symbol("forged")]),
          TypeError,
        );
        assert.throws(() => Reflect.construct(Channel, []), TypeError);
      },
    },
  ];
}
