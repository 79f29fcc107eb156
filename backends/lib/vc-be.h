/*
 * vc-be.h -- a small vhost-user back-end library for the reference daemons.
 *
 * Plain C, no GLib. It links the wire codec (frontend-sim/wire) and nothing
 * else of frontend-sim: message framing, validation and the per-request
 * rules (payload kind, fd count, reply rule, feature gating) all come from
 * the codec's one-row-per-request table, so the daemons and the harness can
 * never disagree about layouts.
 *
 * What the library does, following docs/interop/vhost-user.rst:
 *  - the back-end program conventions (--socket-path, --fd,
 *    --print-capabilities, signals), see vc_be_main();
 *  - one connection at a time: reads each request, validates it, dispatches
 *    it through a per-request handler table and sends exactly the reply the
 *    spec asks for;
 *  - the memory table (SET_MEM_TABLE, ADD_MEM_REG, REM_MEM_REG) and
 *    address translation: ring addresses through userspace_addr,
 *    descriptor addresses through guest_phys_addr, or both through the
 *    IOTLB when VIRTIO_F_ACCESS_PLATFORM is negotiated;
 *  - split and packed virtqueues (virtio 1.x 2.7 and 2.8): ring states
 *    (stopped/started, disabled/enabled), kick/call/err notifiers (eventfds,
 *    pipes, or in-band messages), chain walking with indirect tables,
 *    in-order or out-of-order completion, notification suppression with and
 *    without EVENT_IDX;
 *  - dirty-page logging (LOG_SHMFD, VHOST_F_LOG_ALL), the back-end channel
 *    (BACKEND_REQ), inflight I/O tracking (INFLIGHT_SHMFD), device-state
 *    transfer (DEVICE_STATE), postcopy (PAGEFAULT), config space (CONFIG).
 *
 * A device (virtio-rng, virtio-blk, virtio-net) supplies a VcBeDevice: its
 * type, the features it offers and callbacks; the library calls
 * handle_chain() for every available chain of a ring it drains.
 *
 * The library runs one thread and never allocates on the datapath.
 */
#ifndef VC_BE_H
#define VC_BE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vc-mutants.h"

/* Rings a device may have. */
#define VC_BE_MAX_QUEUES        16
/* Largest ring (virtio 1.x: Queue Size is at most 32768). */
#define VC_BE_MAX_RING_SIZE     32768u
/* GET_MAX_MEM_SLOTS default and the most --max-mem-slots accepts (QEMU's limit). */
#define VC_BE_DEFAULT_MEM_SLOTS 32u
#define VC_BE_MAX_MEM_SLOTS     512u
/* handle_chain() return value: the device completes the chain later. */
#define VC_BE_DEFERRED          UINT32_MAX

typedef struct VcBe VcBe;

/**
 * VcBeSeg: one buffer of a chain, translated.
 * @gpa: the buffer address as the driver wrote it (guest-physical, or an
 *       IOVA with ACCESS_PLATFORM)
 * @hva: our mapping of @gpa; valid for @len bytes (NULL when @len is 0)
 * @len: buffer length
 * @flags: the descriptor's flags (VRING_DESC_F_WRITE: device-writable)
 * @index: the descriptor's index in its table (ring or indirect table)
 */
typedef struct VcBeSeg {
    uint64_t gpa;
    uint8_t *hva;
    uint32_t len;
    uint16_t flags;
    uint16_t index;
} VcBeSeg;

/**
 * VcBeChain: an available descriptor chain handed to a device.
 * @queue: ring index
 * @head: split: the head descriptor index; packed: the buffer id. Either
 *        way, the id the used element names.
 * @nsegs: number of buffers, at most the ring size
 * @segs: the buffers in chain order (owned by the library until the next
 *        pop on the ring: a device that defers the chain copies them)
 * @ndescs: (private) ring slots the chain occupies (packed)
 * @islot: (private) inflight-region slot (packed)
 *
 * A device keeping a chain for later copies the whole struct (and @segs).
 */
typedef struct VcBeChain {
    unsigned queue;
    uint16_t head;
    unsigned nsegs;
    const VcBeSeg *segs;
    uint16_t ndescs;
    uint16_t islot;
} VcBeChain;

/* VcBeDevice.queue_flags() bits. */
/* The library never drains this ring on a kick: the device pops it (net RX). */
#define VC_BE_Q_PULL            (1u << 0)
/* A started but disabled ring is still drained (net TX: frames are dropped). */
#define VC_BE_Q_DRAIN_DISABLED  (1u << 1)

/** VcBeEvent: what VcBeDevice.event() is told. */
typedef enum VcBeEvent {
    VC_BE_EV_RING_DRAIN,    /* complete every deferred chain of the ring now */
    VC_BE_EV_RING_DROP,     /* forget the ring's deferred chains (ring reset, end of connection) */
    VC_BE_EV_RING_RUNNABLE, /* the ring became started, enabled and usable */
    VC_BE_EV_BATCH_DONE,    /* the library drained the ring after a kick */
    VC_BE_EV_RESET,         /* RESET_DEVICE: device state back to its defaults */
    VC_BE_EV_DISCONNECT,    /* the connection ended */
} VcBeEvent;

/**
 * VcBeOption: a device-specific command-line option.
 * @name: long option name without "--"
 * @has_arg: takes a value (--name=VAL or --name VAL)
 * @help: one line for --help ("--name=VAL  text")
 */
typedef struct VcBeOption {
    const char *name;
    bool has_arg;
    const char *help;
} VcBeOption;

/**
 * VcBeDevice: what a device tells the library about itself.
 * @type: the VhostUserBackend type for --print-capabilities ("rng")
 * @prog: program name used in messages ("vhost-user-rng-ref")
 * @device_id: the virtio device id (written into the device state)
 * @features: virtio feature bits offered in GET_FEATURES
 * @pfeatures: VHOST_USER_PROTOCOL_F_* bits offered
 * @num_queues: rings the device has, 1..VC_BE_MAX_QUEUES
 * @queue_num: the GET_QUEUE_NUM answer, 0 for @num_queues (net answers
 *             queue pairs, as QEMU's vhost_net expects)
 * @capabilities: (nullable): JSON array elements for the "features" of
 *                --print-capabilities, e.g. "\"read-only\", \"blk-file\""
 * @options: (nullable): device options, terminated by a NULL name
 * @set_option: (nullable): applies option @name (value NULL when it takes
 *              none); returns NULL or a one-line error (exit 1)
 * @init: (nullable): called once after the options are parsed, before any
 *        connection; returns NULL, or a one-line reason the daemon cannot
 *        start (it then exits 1)
 * @attach: (nullable): called once the back end exists (register watches)
 * @detach: (nullable): called once before the back end is freed, to release
 *          what @init and @attach took (fds, mappings, buffers)
 * @handle_chain: services one chain of a ring the library drains and
 *                returns the number of bytes written into it (used.len), or
 *                VC_BE_DEFERRED to complete it later with vc_be_push().
 *                Runs on the datapath: must not block or allocate.
 * @event: (nullable): see VcBeEvent; @q is the ring for ring events
 * @queue_flags: (nullable): VC_BE_Q_* bits of ring @q
 * @config_len: bytes of device config space (0: none)
 * @get_config: (nullable): fills @config_len bytes
 * @set_config: (nullable): a SET_CONFIG whose range fits the config space
 *              and whose flags are 0 or 1; returns 0 or -errno (refused)
 * @u64_request: (nullable): SEND_RARP and NET_SET_MTU (payload @v);
 *               returns 0 or -errno (refused)
 * @fd_request: (nullable): VHOST_USER_GPU_SET_SOCKET with its one fd: the
 *              device owns @fd from then on (closes it when refusing);
 *              returns 0 or -errno (refused)
 * @state_save: (nullable): writes the device part of the migration state
 *              into @buf (at most @cap bytes); returns its length
 * @state_load: (nullable): checks the device part (@apply false), or
 *              applies it (@apply true); returns 0 or -EINVAL
 * @shm_size: size of VIRTIO Shared Memory Region 0 (a multiple of the
 *            page size), 0 for none; non-zero offers
 *            VHOST_USER_PROTOCOL_F_SHMEM and BACKEND_SEND_FD, answers
 *            GET_SHMEM_CONFIG and maps a range of it while ring 0 runs
 *            (vc-be-shmem.c)
 * @opaque: passed to every callback
 */
typedef struct VcBeDevice {
    const char *type;
    const char *prog;
    uint32_t device_id;
    uint64_t features;
    uint64_t pfeatures;
    unsigned num_queues;
    unsigned queue_num;
    const char *capabilities;
    const VcBeOption *options;
    const char *(*set_option)(const char *name, const char *value, void *opaque);
    const char *(*init)(void *opaque);
    void (*attach)(VcBe *be, void *opaque);
    void (*detach)(VcBe *be, void *opaque);
    uint32_t (*handle_chain)(VcBe *be, const VcBeChain *chain, void *opaque);
    void (*event)(VcBe *be, VcBeEvent ev, unsigned q, void *opaque);
    unsigned (*queue_flags)(unsigned q, void *opaque);
    uint32_t config_len;
    void (*get_config)(VcBe *be, uint8_t *buf, void *opaque);
    int (*set_config)(VcBe *be, uint32_t offset, const uint8_t *data, uint32_t size,
                      uint32_t flags, void *opaque);
    int (*u64_request)(VcBe *be, uint32_t request, uint64_t v, void *opaque);
    int (*fd_request)(VcBe *be, uint32_t request, int fd, void *opaque);
    size_t (*state_save)(VcBe *be, uint8_t *buf, size_t cap, void *opaque);
    int (*state_load)(VcBe *be, const uint8_t *buf, size_t len, bool apply, void *opaque);
    uint64_t shm_size;
    void *opaque;
} VcBeDevice;

/**
 * VcBeOptions: run-time options common to every reference daemon.
 * @mutant: the deliberately broken behaviour, VC_MUT_NONE for none
 * @verbose: log every message on stderr
 * @null_mode: complete every chain with used.len 0 without calling the
 *             device (benchmark only; not conforming)
 * @max_mem_slots: the GET_MAX_MEM_SLOTS answer, 1..VC_BE_MAX_MEM_SLOTS
 * @inband: -1 keeps the device's choice, 0 withdraws and 1 adds the
 *          INBAND_NOTIFICATIONS offer
 */
typedef struct VcBeOptions {
    VcMutant mutant;
    bool verbose;
    bool null_mode;
    unsigned max_mem_slots;
    int inband;
} VcBeOptions;

/**
 * vc_be_new:
 * @dev: the device; copied
 * @opts: options; copied
 *
 * Returns: (transfer full): a back end with no connection, or NULL when
 * memory runs out. Free with vc_be_free().
 */
VcBe *vc_be_new(const VcBeDevice *dev, const VcBeOptions *opts);

/**
 * vc_be_free:
 * @be: (nullable): back end
 *
 * Drops any connection state (unmaps memory, closes fds) and frees @be.
 * Does not close the socket passed to vc_be_serve().
 */
void vc_be_free(VcBe *be);

/**
 * vc_be_serve:
 * @be: back end
 * @sock: a connected AF_UNIX stream socket; still owned by the caller
 * @stop_fd: an fd that becomes readable when the daemon must stop (a
 *           signalfd), or -1
 *
 * Serves one connection until the front end closes it, the stream becomes
 * unusable, or @stop_fd becomes readable. Every per-connection state (memory
 * table, rings, fds, features) is dropped before it returns, so the next
 * call starts a fresh connection.
 *
 * Returns: 0 when the connection ended, 1 when @stop_fd fired.
 */
int vc_be_serve(VcBe *be, int sock, int stop_fd);

/**
 * vc_be_mutant:
 * Returns: the mutant @be runs as (VC_MUT_NONE for the reference).
 */
VcMutant vc_be_mutant(const VcBe *be);

/**
 * vc_be_features:
 * Returns: the virtio features acked by SET_FEATURES on this connection.
 */
uint64_t vc_be_features(const VcBe *be);

/**
 * vc_be_pfeatures:
 * Returns: the protocol features acked by SET_PROTOCOL_FEATURES.
 */
uint64_t vc_be_pfeatures(const VcBe *be);

/**
 * vc_be_connected:
 * Returns: true while a front end is being served.
 */
bool vc_be_connected(const VcBe *be);

/**
 * vc_be_gpa_to_hva:
 * @be: back end
 * @gpa: guest-physical address
 * @len: bytes that must all be mapped
 *
 * Translates through the memory table's guest_phys_addr (never through the
 * IOTLB). The whole range must lie inside one region.
 *
 * Returns: our pointer to @gpa, or NULL.
 */
void *vc_be_gpa_to_hva(VcBe *be, uint64_t gpa, uint64_t len);

/* ---- the datapath, for devices ---- */

/**
 * vc_be_queue_runnable:
 * Returns: true when ring @q is started, enabled, usable and not broken.
 */
bool vc_be_queue_runnable(const VcBe *be, unsigned q);

/**
 * vc_be_queue_enabled:
 * Returns: the enable state of ring @q (vhost-user.rst "Ring states").
 */
bool vc_be_queue_enabled(const VcBe *be, unsigned q);

/**
 * vc_be_pop:
 * @be: back end
 * @q: ring index
 * @c: (out): the chain; its segments stay valid until the next pop on @q
 *
 * Fetches the next available chain of a runnable ring (resubmitted
 * inflight requests first). For VC_BE_Q_PULL rings.
 *
 * Returns: 1 with a chain, 0 when none is available, -1 when the ring
 * cannot be used now (not runnable, broken, or waiting for an IOTLB update).
 */
int vc_be_pop(VcBe *be, unsigned q, VcBeChain *c);

/**
 * vc_be_unpop:
 * @be: back end
 * @c: the chain returned by the latest vc_be_pop() on its ring
 *
 * Gives the chain back (it will be popped again). Only the most recent
 * pops, in reverse order, and never on a ring with inflight tracking.
 */
void vc_be_unpop(VcBe *be, const VcBeChain *c);

/**
 * vc_be_push:
 * @be: back end
 * @c: a chain obtained from vc_be_pop() or handed to handle_chain() (a copy
 *     is fine, its segments are used for dirty logging)
 * @len: bytes written into the chain, from its first writable byte
 *
 * Writes the used element (split: not yet visible before vc_be_flush()).
 * Logs the written pages when dirty logging is on. Ignored when the ring
 * was reset since the chain was fetched.
 */
void vc_be_push(VcBe *be, const VcBeChain *c, uint32_t len);

/**
 * vc_be_flush:
 * Publishes the used elements pushed on ring @q and signals the driver
 * when notification suppression allows (call fd, or in-band call).
 */
void vc_be_flush(VcBe *be, unsigned q);

/**
 * vc_be_watch:
 * @be: back end
 * @fd: an fd to poll for input (timerfd, signalfd); owned by the caller
 * @cb: called from the main loop when @fd is readable
 * @opaque: passed to @cb
 *
 * The watch lasts for the life of @be, connected or not.
 *
 * Returns: 0, or -ENOSPC (at most 4 watches).
 */
int vc_be_watch(VcBe *be, int fd, void (*cb)(VcBe *be, int fd, void *opaque), void *opaque);

/**
 * vc_be_config_changed:
 *
 * Tells the front end the config space changed: BACKEND_CONFIG_CHANGE_MSG
 * on the back-end channel when CONFIG and BACKEND_REQ are negotiated
 * (NEED_REPLY with REPLY_ACK; the ack is awaited in the background and
 * ignored). While the device is suspended (no ring started) the message
 * waits until a ring starts (vhost-user.rst "Suspended device state").
 */
void vc_be_config_changed(VcBe *be);

/**
 * vc_be_note:
 * @be: back end
 * @fmt: printf format of one line, without the newline
 *
 * Prints "PROG: line" on stderr, verbose or not. For errors and for
 * requests the daemon rejected.
 */
void vc_be_note(VcBe *be, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * vc_be_log:
 * Like vc_be_note(), but only with --verbose.
 */
void vc_be_log(VcBe *be, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * vc_be_parse_size:
 * @s: "64M", "4096", "1G", "512K" (binary units)
 * @out: (out): bytes
 *
 * Returns: true when @s is a size.
 */
bool vc_be_parse_size(const char *s, uint64_t *out);

/**
 * vc_be_args_mutant:
 * @argc: from main()
 * @argv: from main()
 *
 * For devices whose mutants change what they offer before vc_be_main()
 * parses the options.
 *
 * Returns: the mutant named by --mutant in @argv, VC_MUT_NONE for none or
 * an unknown name (vc_be_main() reports that one).
 */
VcMutant vc_be_args_mutant(int argc, char **argv);

/**
 * vc_be_main:
 * @argc: from main()
 * @argv: from main()
 * @dev: the device
 *
 * The whole daemon: parses the options of vhost-user.rst "Backend program
 * conventions" (--socket-path, --fd, --print-capabilities), ours
 * (--mutant, --list-mutants, -v/--verbose, --max-mem-slots, --null,
 * --inband, --no-inband, --help) and the device's, then serves connections
 * until SIGTERM or SIGINT. Never daemonizes (except as the cli-daemonize
 * mutant).
 *
 * Returns: the process exit status: 0 after a clean stop, 1 on a bad option
 * or a failed initialisation (after a one-line message on stderr).
 */
int vc_be_main(int argc, char **argv, const VcBeDevice *dev);

#endif /* VC_BE_H */
