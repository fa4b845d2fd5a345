/**
 * Channels within one kernel: the ported T-channel cases (Zircon's
 * `zircon/system/utest/core/channel/channel.cc`) and every status of `zx_channel_create`,
 * `zx_channel_write` and `zx_channel_read`, in Zircon's order of checks.
 *
 * Sources read (the order of checks is Zircon's kernel, as its core tests exercise it):
 * - `zircon/kernel/lib/syscalls/channel.cc`: `sys_channel_create` (options ≠ 0 →
 *   INVALID_ARGS); `channel_write`: a deferred `RemoveUserHandles` closes every listed handle
 *   on any early return — options (INVALID_ARGS), the channel handle with ZX_RIGHT_WRITE
 *   (BAD_HANDLE / WRONG_TYPE / ACCESS_DENIED), `MessagePacket::Create` (OUT_OF_RANGE past 65,536
 *   bytes or 64 handles); then `msg_put_handles` takes every handle out of the table, latching
 *   the first failure; then `ChannelDispatcher::Write` (PEER_CLOSED). `channel_read`: the handle
 *   with ZX_RIGHT_READ, then options other than MAY_DISCARD → NOT_SUPPORTED, then `Read`.
 * - `zircon/kernel/object/user_handles.cc`: `get_handle_for_message_locked` removes the handle
 *   first (a missing one — also the second listing of a repeated one — is BAD_HANDLE), then
 *   `common_handle_checks_locked`: no ZX_RIGHT_TRANSFER → ACCESS_DENIED, the channel written to
 *   → NOT_SUPPORTED.
 * - `zircon/kernel/object/channel_dispatcher.cc`: `Read` — empty: PEER_CLOSED if the peer
 *   closed else SHOULD_WAIT; too small: BUFFER_TOO_SMALL, the message stays unless
 *   MAY_DISCARD; READABLE cleared when the queue empties. `OnPeerZeroHandlesLocked` clears
 *   WRITABLE and sets PEER_CLOSED; the destructor drops the queued messages (their handles).
 * - `zircon/kernel/object/message_packet.cc`: `CreateCommon` — `data_size > kMaxMessageSize ||
 *   num_handles > kMaxMessageHandles` → OUT_OF_RANGE.
 * - `docs/reference/syscalls/channel_{create,write,read}.md`; `ZX_DEFAULT_CHANNEL_RIGHTS` =
 *   `(ZX_RIGHTS_BASIC & ~ZX_RIGHT_DUPLICATE) | ZX_RIGHTS_IO | ZX_RIGHT_SIGNAL |
 *   ZX_RIGHT_SIGNAL_PEER` (`zircon/rights.h`).
 *
 * zxvm's own decisions (README): a VMAR handle is NOT_SUPPORTED and consumed like any refused
 * handle, except the kernel's borrowed root VMAR handle, which stays; the iovec option is
 * NOT_SUPPORTED; a `TypeError` for the handle list consumes nothing, any later failure consumes
 * the listed handles. Cases between kernels are in `channel_transfer.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Channel,
  ChannelLimits,
  ChannelOptions,
  type Handle,
  type Kernel,
  Rights,
  Signals,
  type Vmo,
  VmoChildOptions,
  ZxStatus,
} from "../../mod.ts";
import { expectStatus, expectTypeError, P, type SuiteContext, withKernel } from "./helpers.ts";

const S = ZxStatus;
const R = Signals.ChannelReadable;
const W = Signals.ChannelWritable;
const PC = Signals.ChannelPeerClosed;
const WRITE = "zx_channel_write";
const READ = "zx_channel_read";
/** kChannelData of the core tests, as 4 little-endian bytes. */
const DATA = new Uint8Array([0xef, 0xbe, 0xad, 0xde]);

/** `n` fresh 1-page VMOs of `k`. */
function vmos(k: Kernel, n: number): Vmo[] {
  return Array.from({ length: n }, () => k.createVmo(P));
}

/** Every handle in `hs` is closed (`valid` false, and the value is dead in the kernel). */
function allConsumed(hs: Handle[], what: string): void {
  hs.forEach((h, i) => {
    assert.equal(h.valid, false, `${what}: handles[${i}] consumed`);
    expectStatus(() => h.basicInfo(), S.ErrBadHandle, undefined, `${what}: handles[${i}]`);
  });
}

/** Register the channel tests (one kernel). */
export function channelTests(t: SuiteContext): void {
  describe("Channel: constants and zx_channel_create", () => {
    constantsAndCreate(t);
  });
  describe("Channel: zx_channel_write and zx_channel_read (T-channel)", () => {
    ported(t);
  });
  describe("Channel: statuses and their order", () => {
    writeStatuses(t);
    readStatuses(t);
  });
  describe("Channel: handles in messages", () => {
    handleMoves(t);
  });
}

function constantsAndCreate(t: SuiteContext): void {
  it("Zircon's values: signals, ZX_DEFAULT_CHANNEL_RIGHTS, options, limits", () => {
    assert.deepEqual([R, W, PC], [1, 2, 4]);
    const basic = Rights.Transfer | Rights.Duplicate | Rights.Wait | Rights.Inspect;
    assert.equal(basic, Rights.Basic);
    const want = (basic & ~Rights.Duplicate) | Rights.Read | Rights.Write | Rights.Signal |
      Rights.SignalPeer;
    assert.equal(Rights.DefaultChannel, want);
    assert.equal(Rights.DefaultChannel, 0xF00E);
    assert.equal(ChannelOptions.ReadMayDiscard, 1);
    assert.equal(ChannelOptions.WriteUseIovec, 2);
    assert.deepEqual(ChannelLimits, { MaxMsgBytes: 65536, MaxMsgHandles: 64 });
  });

  it("CreateIsOkAndEndpointsAreRelated: koids, related koids, type, default rights", () => {
    withKernel(t, (k) => {
      const [a, b] = k.createChannel();
      using _a = a;
      using _b = b;
      const ia = a.basicInfo();
      const ib = b.basicInfo();
      assert.ok(ia.koid !== 0 && ib.koid !== 0 && ia.koid !== ib.koid);
      assert.equal(ia.relatedKoid, ib.koid);
      assert.equal(ib.relatedKoid, ia.koid);
      assert.deepEqual([ia.type, ib.type], [4, 4]); // ZX_OBJ_TYPE_CHANNEL
      assert.deepEqual([a.rights, b.rights], [Rights.DefaultChannel, Rights.DefaultChannel]);
      assert.deepEqual([a.type, b.type], ["channel", "channel"]);
      assert.ok(a instanceof Channel && a.kernel === k && b.kernel === k);
    });
  });

  it("IsWriteableByDefault; nothing is readable yet", () => {
    withKernel(t, (k) => {
      const [a, b] = k.createChannel();
      assert.deepEqual([a.signals, b.signals], [W, W]);
      a.close();
      b.close();
    });
  });

  it("options other than 0 are ErrInvalidArgs and create nothing", () => {
    withKernel(t, (k) => {
      for (const o of [1, 2, 0x80000000]) {
        const e = expectStatus(() => k.createChannel(o), S.ErrInvalidArgs, "zx_channel_create");
        assert.match(e.message, /options/);
      }
      assert.equal(k.handleCount, 0);
      expectStatus(() => k.createChannel(-1), S.ErrInvalidArgs);
      expectTypeError(() => k.createChannel("0" as unknown as number));
    });
  });

  it("Channel.create() uses the default kernel", () => {
    const [a, b] = Channel.create();
    try {
      assert.equal(a.kernel.closed, false);
      assert.equal(a.kernel, b.kernel);
      a.write(DATA);
      assert.deepEqual(b.read().bytes, DATA);
    } finally {
      a.close();
      b.close();
    }
  });

  it("a closed kernel cannot create channels (ErrBadState)", () => {
    const k = t.open();
    k.close();
    expectStatus(() => k.createChannel(), S.ErrBadState, "zx_channel_create");
  });

  it("no DUPLICATE: duplicate is ErrAccessDenied; replace keeps the endpoint open", () => {
    withKernel(t, (k) => {
      const [a, b] = k.createChannel();
      expectStatus(() => a.duplicate(), S.ErrAccessDenied, "zx_handle_duplicate");
      const a2 = a.replace(Rights.DefaultChannel & ~Rights.Signal);
      assert.equal(a.valid, false);
      assert.equal(b.signals, W, "the peer is not closed by a replace");
      a2.write(DATA);
      assert.deepEqual(b.read().bytes, DATA);
      a2.close();
      assert.equal(b.signals, PC);
      b.close();
    });
  });
}

function ported(t: SuiteContext): void {
  it("WriteToEndpointCausesOtherToBecomeReadable", () => {
    withKernel(t, (k) => {
      const [local, remote] = k.createChannel();
      local.write(DATA, []);
      assert.equal(local.signals, W);
      assert.equal(remote.signals, W | R);
      local.close();
      remote.close();
    });
  });

  it("the bytes are copied: later changes to the source do not reach the message", () => {
    withKernel(t, (k) => {
      const [a, b] = k.createChannel();
      const src = new Uint8Array([1, 2, 3, 4]);
      a.write(src.subarray(1, 3));
      src.fill(9);
      const got = b.read();
      assert.deepEqual(got.bytes, new Uint8Array([2, 3]));
      assert.deepEqual(got.handles, []);
      a.write(new Uint8Array(0));
      assert.equal(b.read().bytes.length, 0, "an empty message is a message");
      a.close();
      b.close();
    });
  });

  it("messages are read in the order written, from either side", () => {
    withKernel(t, (k) => {
      const [a, b] = k.createChannel();
      for (let i = 0; i < 50; i++) a.write(new Uint8Array([i]));
      b.write(new Uint8Array([200]));
      for (let i = 0; i < 50; i++) assert.equal(b.read().bytes[0], i);
      assert.equal(a.read().bytes[0], 200);
      a.close();
      b.close();
    });
  });

  it("ReadWhenEmptyReturnsShouldWait", () => {
    withKernel(t, (k) => {
      const [local, remote] = k.createChannel();
      expectStatus(() => remote.read(), S.ErrShouldWait, READ);
      local.close();
      remote.close();
    });
  });

  it("ReadWhenEmptyAndClosedReturnsPeerClosed", () => {
    withKernel(t, (k) => {
      const [local, remote] = k.createChannel();
      local.close();
      expectStatus(() => remote.read(), S.ErrPeerClosed, READ);
      remote.close();
    });
  });

  it("ReadRemainingMessagesWhenPeerIsClosed", () => {
    withKernel(t, (k) => {
      const [local, remote] = k.createChannel();
      for (let i = 0; i < 4; i++) local.write(DATA);
      local.close();
      assert.equal(remote.signals, R | PC);
      for (let i = 0; i < 4; i++) assert.deepEqual(remote.read().bytes, DATA);
      assert.equal(remote.signals & R, 0, "not readable once drained");
      expectStatus(() => remote.read(), S.ErrPeerClosed);
      remote.close();
    });
  });

  it("CloseSignalsPeerClosed and CloseClearsSignalsWriteable", () => {
    withKernel(t, (k) => {
      const [local, remote] = k.createChannel();
      assert.ok(remote.signals & W);
      local.close();
      assert.equal(remote.signals, PC, "WRITABLE cleared, PEER_CLOSED set");
      remote.close();
    });
  });

  it("WriteConsumesAllHandles: 65 handles are ErrOutOfRange and all are closed", () => {
    withKernel(t, (k) => {
      const [local, remote] = k.createChannel();
      const hs = vmos(k, ChannelLimits.MaxMsgHandles + 1);
      expectStatus(() => local.write(new Uint8Array(0), hs), S.ErrOutOfRange, WRITE);
      allConsumed(hs, "65 handles");
      assert.equal(remote.signals, W, "nothing was queued");
      local.close();
      remote.close();
    });
  });

  it("OnFlightHandlesSignalledWhenPeerIsClosed", () => {
    withKernel(t, (k) => {
      const [local, remote] = k.createChannel();
      const [fl0, fr0] = k.createChannel();
      const [fl1, fr1] = k.createChannel();
      local.write(new Uint8Array(0), [fr0]); // queued for remote
      remote.write(new Uint8Array(0), [fr1]); // queued for local
      local.close(); // the handles queued for local are closed
      assert.ok(fl1.signals & PC, "fr1 was closed with local's queue");
      assert.ok(fl0.signals & W, "fr0 is still queued for remote");
      assert.equal(fl0.signals & PC, 0);
      remote.close();
      assert.ok(fl0.signals & PC, "fr0 was closed with remote's queue");
      fl0.close();
      fl1.close();
    });
  });

  it("WriteNonTransferableHandleReturnsAccessDeniedAndClosesHandle", () => {
    withKernel(t, (k) => {
      const [local, remote] = k.createChannel();
      using vmo = k.createVmo(P);
      const nonTransferable = vmo.duplicate(Rights.DefaultVmo & ~Rights.Transfer);
      expectStatus(
        () => local.write(new Uint8Array(0), [nonTransferable]),
        S.ErrAccessDenied,
        WRITE,
      );
      allConsumed([nonTransferable], "non-transferable");
      assert.ok(vmo.valid, "the original handle is untouched");
      local.close();
      remote.close();
    });
  });

  it("WriteRepeatedHandlesReturnsBadHandlesAndClosesHandle", () => {
    withKernel(t, (k) => {
      const [local, remote] = k.createChannel();
      const vmo = k.createVmo(P);
      expectStatus(() => local.write(new Uint8Array(0), [vmo, vmo]), S.ErrBadHandle, WRITE);
      allConsumed([vmo], "repeated");
      assert.equal(remote.signals, W);
      local.close();
      remote.close();
    });
  });

  it("WriteSelfHandleReturnsNotSupported: the endpoint is consumed, the peer sees it close", () => {
    withKernel(t, (k) => {
      const [local, remote] = k.createChannel();
      expectStatus(() => local.write(new Uint8Array(0), [local]), S.ErrNotSupported, WRITE);
      assert.equal(local.valid, false);
      assert.equal(remote.signals, PC);
      remote.close();
    });
  });

  it("NestingIsOk: 200 channels, each in the payload of the previous one", () => {
    withKernel(t, (k) => {
      const pairs = Array.from({ length: 200 }, () => k.createChannel());
      for (let i = pairs.length - 1; i > 0; i--) {
        pairs[i - 1][0].write(new Uint8Array(0), [pairs[i][0], pairs[i][1]]);
      }
      assert.equal(k.handleCount, 2);
      pairs[0][0].close();
      pairs[0][1].close();
      assert.equal(k.handleCount, 0);
    });
  });

  it("nesting 20,000 deep closes without recursion", () => {
    withKernel(t, (k) => {
      const pairs = Array.from({ length: 20_000 }, () => k.createChannel());
      for (let i = pairs.length - 1; i > 0; i--) {
        pairs[i - 1][0].write(new Uint8Array(0), [pairs[i][0], pairs[i][1]]);
      }
      assert.equal(k.handleCount, 2);
      pairs[0][1].close();
      pairs[0][0].close();
      assert.equal(k.handleCount, 0);
    });
  });

  it("ReadAndWriteWithMultipleSizes: random sizes up to the limits round-trip", () => {
    withKernel(t, (k) => {
      const [local, remote] = k.createChannel();
      let seed = 12345;
      const rand = (n: number): number => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed % n;
      };
      for (let i = 0; i < 40; i++) {
        const nb = rand(ChannelLimits.MaxMsgBytes);
        const nh = rand(ChannelLimits.MaxMsgHandles);
        const data = new Uint8Array(nb);
        if (nb > 0) data[0] = i;
        const hs = vmos(k, nh);
        local.write(data, hs);
        const got = remote.read(0, nb, nh);
        assert.equal(got.bytes.length, nb);
        assert.equal(got.handles.length, nh);
        if (nb > 0) assert.equal(got.bytes[0], i);
        for (const h of got.handles) h.close();
      }
      local.close();
      remote.close();
    });
  });
}

function writeStatuses(t: SuiteContext): void {
  it("65,536 bytes and 64 handles fit; one more of either is ErrOutOfRange", () => {
    withKernel(t, (k) => {
      const [a, b] = k.createChannel();
      a.write(new Uint8Array(ChannelLimits.MaxMsgBytes), vmos(k, ChannelLimits.MaxMsgHandles));
      const got = b.read();
      assert.equal(got.bytes.length, 65536);
      assert.equal(got.handles.length, 64);
      for (const h of got.handles) h.close();
      const hs = vmos(k, 2);
      expectStatus(() => a.write(new Uint8Array(65537), hs), S.ErrOutOfRange, WRITE);
      allConsumed(hs, "65,537 bytes");
      a.close();
      b.close();
    });
  });

  it("options: 1 is ErrInvalidArgs, WriteUseIovec ErrNotSupported; both consume the handles", () => {
    withKernel(t, (k) => {
      const [a, b] = k.createChannel();
      for (
        const [o, st] of [
          [1, S.ErrInvalidArgs],
          [ChannelOptions.WriteUseIovec | 1, S.ErrInvalidArgs],
          [0x80000000, S.ErrInvalidArgs],
          [ChannelOptions.WriteUseIovec, S.ErrNotSupported],
        ] as const
      ) {
        const hs = vmos(k, 1);
        expectStatus(() => a.write(DATA, hs, o), st, WRITE, `options ${o}`);
        allConsumed(hs, `options ${o}`);
      }
      assert.equal(b.signals, W);
      a.close();
      b.close();
    });
  });

  it("the channel handle: ErrBadHandle, ErrWrongType, ErrAccessDenied without WRITE", () => {
    withKernel(t, (k) => {
      const [a, b] = k.createChannel();
      const noWrite = b.replace(Rights.DefaultChannel & ~Rights.Write);
      let hs = vmos(k, 2);
      expectStatus(() => noWrite.write(DATA, hs), S.ErrAccessDenied, WRITE);
      allConsumed(hs, "no WRITE");
      using vmo = k.createVmo(P);
      hs = vmos(k, 1);
      expectStatus(
        () => Reflect.apply(Channel.prototype.write, vmo, [DATA, hs]),
        S.ErrWrongType,
        WRITE,
      );
      allConsumed(hs, "wrong type");
      a.close();
      hs = vmos(k, 1);
      expectStatus(() => a.write(DATA, hs), S.ErrBadHandle, WRITE);
      allConsumed(hs, "closed channel");
      noWrite.close();
    });
  });

  it("order: options, then the channel handle, then sizes, then each handle, then the peer", () => {
    withKernel(t, (k) => {
      const [a, b] = k.createChannel();
      const [c, d] = k.createChannel();
      d.close(); // c's peer is gone
      const noWrite = b.replace(Rights.DefaultChannel & ~Rights.Write);
      using vmo = k.createVmo(P);
      const noTransfer = () => vmo.duplicate(Rights.Read);
      const closed = k.createVmo(P);
      closed.close();
      // options before the handle: a VMO as the channel is still INVALID_ARGS
      expectStatus(
        () => Reflect.apply(Channel.prototype.write, vmo, [DATA, [], 1]),
        S.ErrInvalidArgs,
      );
      // the handle's rights before the sizes
      expectStatus(() => noWrite.write(new Uint8Array(65537)), S.ErrAccessDenied);
      // sizes before the handles' own checks
      expectStatus(() => a.write(new Uint8Array(65537), [noTransfer()]), S.ErrOutOfRange);
      // each handle before PEER_CLOSED
      expectStatus(() => c.write(DATA, [noTransfer()]), S.ErrAccessDenied);
      expectStatus(() => c.write(DATA, [closed]), S.ErrBadHandle);
      expectStatus(() => c.write(DATA, []), S.ErrPeerClosed, WRITE);
      // the first failing handle decides
      expectStatus(() => a.write(DATA, [closed, noTransfer()]), S.ErrBadHandle);
      expectStatus(() => a.write(DATA, [noTransfer(), closed]), S.ErrAccessDenied);
      // every handle leaves the table, also after the first failure: `a` itself too
      expectStatus(() => a.write(DATA, [noTransfer(), a]), S.ErrAccessDenied);
      assert.equal(a.valid, false);
      assert.equal(b.valid, false, "b was replaced by noWrite");
      assert.equal(noWrite.signals, PC, "a was closed by the failed write");
      noWrite.close();
      c.close();
    });
  });

  it("ErrPeerClosed consumes the handles (CallConsumesHandlesOnError)", () => {
    withKernel(t, (k) => {
      const [local, remote] = k.createChannel();
      remote.close();
      const hs = vmos(k, 2);
      expectStatus(() => local.write(DATA, hs), S.ErrPeerClosed, WRITE);
      allConsumed(hs, "peer closed");
      local.close();
    });
  });

  it("a VMAR is ErrNotSupported and consumed; the borrowed root VMAR handle stays", () => {
    withKernel(t, (k) => {
      const [a, b] = k.createChannel();
      const sub = k.rootVmar.allocate(0, 0, 4 * P);
      const v1 = k.createVmo(P);
      const e = expectStatus(() => a.write(DATA, [v1, sub]), S.ErrNotSupported, WRITE);
      assert.match(e.message, /VMAR/);
      allConsumed([v1, sub], "sub-VMAR");
      const v2 = k.createVmo(P);
      expectStatus(() => a.write(DATA, [k.rootVmar, v2]), S.ErrNotSupported, WRITE);
      allConsumed([v2], "with the root VMAR");
      assert.equal(k.rootVmar.valid, true);
      assert.equal(
        k.rootVmar.rights,
        Rights.DefaultVmar | Rights.Read | Rights.Write | Rights.Execute,
      );
      assert.equal(b.signals, W, "nothing was queued");
      a.close();
      b.close();
    });
  });

  it("wrong JS types: a bad handle list consumes nothing; bad bytes or options consume the list", () => {
    withKernel(t, (k) => {
      const [a, b] = k.createChannel();
      using keep = k.createVmo(P);
      for (const bad of [null, {}, "x", keep, [keep, 1], [keep, {}], [keep, null]]) {
        expectTypeError(() => a.write(DATA, bad as unknown as Handle[]));
        assert.ok(keep.valid, `handles=${String(bad)} consumed nothing`);
      }
      for (const bad of [null, "abc", [1, 2], new ArrayBuffer(2), new Uint16Array(1)]) {
        const hs = vmos(k, 1);
        expectTypeError(() => a.write(bad as unknown as Uint8Array, hs));
        allConsumed(hs, `bytes=${String(bad)}`);
      }
      const hs = vmos(k, 1);
      expectTypeError(() => a.write(DATA, hs, "0" as unknown as number));
      allConsumed(hs, "options '0'");
      const hs2 = vmos(k, 1);
      expectStatus(() => a.write(DATA, hs2, NaN), S.ErrInvalidArgs);
      allConsumed(hs2, "options NaN");
      expectTypeError(() => Reflect.apply(Channel.prototype.write, {}, [DATA, []]));
      assert.equal(b.signals, W);
      a.close();
      b.close();
    });
  });

  it("a handle of another kernel is ErrBadHandle: it stays valid there, the others are consumed", () => {
    withKernel(t, (k) => {
      const other = t.open();
      try {
        const [a, b] = k.createChannel();
        const foreign = other.createVmo(P);
        const mine = k.createVmo(P);
        expectStatus(() => a.write(DATA, [mine, foreign]), S.ErrBadHandle, WRITE);
        allConsumed([mine], "own handle");
        assert.ok(foreign.valid, "the other kernel's handle is untouched");
        foreign.close();
        a.close();
        b.close();
      } finally {
        other.close();
      }
    });
  });
}

function readStatuses(t: SuiteContext): void {
  it("the channel handle: ErrBadHandle, ErrWrongType, ErrAccessDenied without READ", () => {
    withKernel(t, (k) => {
      const [a, b] = k.createChannel();
      const [c, d] = k.createChannel();
      a.write(DATA);
      c.write(DATA);
      const noRead = d.replace(Rights.DefaultChannel & ~Rights.Read);
      expectStatus(() => noRead.read(), S.ErrAccessDenied, READ);
      using vmo = k.createVmo(P);
      expectStatus(() => Reflect.apply(Channel.prototype.read, vmo, []), S.ErrWrongType, READ);
      noRead.close();
      expectStatus(() => noRead.read(), S.ErrBadHandle, READ);
      assert.deepEqual(b.read().bytes, DATA, "the failed reads left b's message queued");
      a.close();
      b.close();
      c.close();
    });
  });

  it("options: only ReadMayDiscard; others are ErrNotSupported, after the handle checks", () => {
    withKernel(t, (k) => {
      const [a, b] = k.createChannel();
      a.write(DATA);
      for (const o of [2, 3, 0x80000000]) {
        expectStatus(() => b.read(o), S.ErrNotSupported, READ, `options ${o}`);
      }
      const noRead = a.replace(Rights.DefaultChannel & ~Rights.Read);
      expectStatus(() => noRead.read(2), S.ErrAccessDenied, READ, "rights before options");
      assert.deepEqual(b.read(ChannelOptions.ReadMayDiscard).bytes, DATA);
      expectStatus(() => b.read(2), S.ErrNotSupported, READ, "options before the queue");
      expectStatus(() => b.read(-1), S.ErrInvalidArgs);
      expectTypeError(() => b.read("0" as unknown as number));
      expectTypeError(() => Reflect.apply(Channel.prototype.read, {}, []));
      noRead.close();
      b.close();
    });
  });

  it("ErrBufferTooSmall: the message stays queued and says its size", () => {
    withKernel(t, (k) => {
      const [a, b] = k.createChannel();
      a.write(new Uint8Array(11), vmos(k, 2));
      let e = expectStatus(() => b.read(0, 10), S.ErrBufferTooSmall, READ);
      assert.match(e.message, /11 bytes and 2 handles/);
      e = expectStatus(() => b.read(0, 11, 1), S.ErrBufferTooSmall, READ);
      expectStatus(() => b.read(0, 0, 0), S.ErrBufferTooSmall, READ);
      assert.equal(b.signals, W | R, "still readable");
      const got = b.read(0, 11, 2);
      assert.equal(got.bytes.length, 11);
      for (const h of got.handles) h.close();
      a.close();
      b.close();
    });
  });

  it("ReadMayDiscard: a message that does not fit is destroyed with its handles", () => {
    withKernel(t, (k) => {
      const [a, b] = k.createChannel();
      const [x, y] = k.createChannel();
      using parent = k.createVmo(P);
      const child = parent.createChild(VmoChildOptions.Snapshot, 0, P);
      assert.equal(parent.signals & Signals.VmoZeroChildren, 0);
      a.write(new Uint8Array(1), [x, child]);
      a.write(DATA);
      expectStatus(() => b.read(ChannelOptions.ReadMayDiscard, 0, 2), S.ErrBufferTooSmall, READ);
      assert.equal(y.signals, PC, "the endpoint in the discarded message was closed");
      assert.ok(parent.signals & Signals.VmoZeroChildren, "the child VMO was destroyed");
      assert.deepEqual(b.read().bytes, DATA, "the next message is intact");
      assert.equal(b.signals, W, "READABLE cleared when the queue empties");
      for (const [nb, nh] of [[0, 0], [1, 0], [0, 1]]) {
        a.write(new Uint8Array(1), vmos(k, 1));
        expectStatus(() => b.read(ChannelOptions.ReadMayDiscard, nb, nh), S.ErrBufferTooSmall);
        assert.equal(b.signals, W, `discarded with buffers ${nb}/${nh}`);
      }
      y.close();
      a.close();
      b.close();
    });
  });
}

function handleMoves(t: SuiteContext): void {
  it("handles move: the sender's are dead, the reader's have the same koid, type and rights", () => {
    withKernel(t, (k) => {
      const [a, b] = k.createChannel();
      const [c, d] = k.createChannel();
      const vmo = k.createVmo(2 * P);
      vmo.write(DATA, 100);
      const ro = vmo.duplicate(Rights.Read | Rights.Transfer | Rights.Map);
      const koids = [vmo.koid, ro.koid, c.koid];
      const before = k.handleCount;
      a.write(new Uint8Array([5]), [vmo, ro, c]);
      assert.equal(k.handleCount, before - 3, "in-flight handles belong to no table");
      allConsumed([vmo, ro, c], "moved");
      assert.equal(d.signals, W, "an endpoint in flight is still open");
      const got = b.read();
      assert.equal(k.handleCount, before);
      const [v, r, ch] = got.handles;
      assert.deepEqual(got.handles.map((h) => h.type), ["vmo", "vmo", "channel"]);
      assert.deepEqual(got.handles.map((h) => h.koid), koids);
      assert.equal(v.rights, Rights.DefaultVmo);
      assert.equal(r.rights, Rights.Read | Rights.Transfer | Rights.Map, "never more rights");
      assert.ok(got.handles.every((h) => h.kernel === k && h.valid));
      assert.deepEqual((v as Vmo).read(4, 100), DATA);
      expectStatus(() => (r as Vmo).write(DATA, 0), S.ErrAccessDenied);
      (ch as Channel).write(DATA);
      assert.deepEqual(d.read().bytes, DATA, "the moved endpoint still talks to its peer");
      for (const h of got.handles) h.close();
      for (const h of [a, b, d]) h.close();
    });
  });

  it("a VMO whose only handle is in flight stays alive, with its contents", () => {
    withKernel(t, (k) => {
      const [a, b] = k.createChannel();
      const vmo = k.createVmo(P);
      vmo.write(DATA, 7);
      a.write(new Uint8Array(0), [vmo]);
      const v = b.read().handles[0] as Vmo;
      assert.deepEqual(v.read(4, 7), DATA);
      v.close();
      a.close();
      b.close();
    });
  });

  it("closing an endpoint closes the handles queued for it (a snapshot child is destroyed)", () => {
    withKernel(t, (k) => {
      const [a, b] = k.createChannel();
      using parent = k.createVmo(P);
      a.write(new Uint8Array(0), [parent.createChild(VmoChildOptions.Snapshot, 0, P)]);
      assert.equal(parent.signals & Signals.VmoZeroChildren, 0);
      b.close();
      assert.ok(parent.signals & Signals.VmoZeroChildren);
      a.close();
    });
  });

  it("writing the peer endpoint into the channel is allowed (Zircon does not refuse it)", () => {
    withKernel(t, (k) => {
      const [a, b] = k.createChannel();
      a.write(DATA, [b]); // b is now queued in its own inbox
      assert.equal(b.valid, false);
      assert.equal(a.signals, W, "b is open (it holds itself)");
      a.close();
      assert.equal(k.handleCount, 0);
    });
  });

  it("a wait through a handle that is written to a channel is canceled", async () => {
    const k = t.open();
    try {
      const [a, b] = k.createChannel();
      const [c, d] = k.createChannel();
      const wait = c.waitOne(R);
      a.write(new Uint8Array(0), [c]);
      await assert.rejects(
        wait,
        (e: unknown) => (e as { status?: number }).status === S.ErrCanceled,
      );
      for (const h of b.read().handles) h.close();
      for (const h of [a, b, d]) h.close();
    } finally {
      k.close();
    }
  });
}
