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
 *    descriptor addresses through guest_phys_addr;
 *  - split virtqueues: ring states (stopped/started, disabled/enabled),
 *    kick/call/err notifiers (eventfds or pipes), chain walking with
 *    indirect tables, used-ring updates and notification suppression.
 *
 * A device (virtio-rng, ...) supplies a VcBeDevice: its type, the features
 * it offers and one callback that services a descriptor chain.
 *
 * The library runs one thread and never allocates on the datapath.
 */
#ifndef VC_BE_H
#define VC_BE_H

#include <stdbool.h>
#include <stdint.h>

#include "vc-mutants.h"

/* Rings a device may have. */
#define VC_BE_MAX_QUEUES        8
/* Largest split ring (virtio 1.x: Queue Size is at most 32768). */
#define VC_BE_MAX_RING_SIZE     32768u
/* GET_MAX_MEM_SLOTS default and the most --max-mem-slots accepts (QEMU's limit). */
#define VC_BE_DEFAULT_MEM_SLOTS 32u
#define VC_BE_MAX_MEM_SLOTS     512u

typedef struct VcBe VcBe;

/**
 * VcBeSeg: one descriptor of a chain, translated.
 * @gpa: the buffer address as the driver wrote it (guest-physical)
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
 * @head: head descriptor index (the used element's id)
 * @nsegs: number of buffers, at most the ring size
 * @segs: the buffers in chain order (owned by the library)
 */
typedef struct VcBeChain {
    unsigned queue;
    uint16_t head;
    unsigned nsegs;
    const VcBeSeg *segs;
} VcBeChain;

/**
 * VcBeDevice: what a device tells the library about itself.
 * @type: the VhostUserBackend type for --print-capabilities ("rng")
 * @prog: program name used in messages ("vhost-user-rng-ref")
 * @features: virtio feature bits offered in GET_FEATURES (device and
 *            transport bits plus VHOST_USER_F_PROTOCOL_FEATURES)
 * @pfeatures: VHOST_USER_PROTOCOL_F_* bits offered
 * @num_queues: rings the device has (GET_QUEUE_NUM), 1..VC_BE_MAX_QUEUES
 * @init: (nullable): called once after the options are parsed, before any
 *        connection; returns NULL, or a one-line reason the daemon cannot
 *        start (it then exits 1)
 * @handle_chain: services one chain of a started and enabled ring and
 *                returns the number of bytes written into it (used.len).
 *                Runs on the datapath: must not block or allocate.
 * @opaque: passed to @init and @handle_chain
 */
typedef struct VcBeDevice {
    const char *type;
    const char *prog;
    uint64_t features;
    uint64_t pfeatures;
    unsigned num_queues;
    const char *(*init)(void *opaque);
    uint32_t (*handle_chain)(VcBe *be, const VcBeChain *chain, void *opaque);
    void *opaque;
} VcBeDevice;

/**
 * VcBeOptions: run-time options common to every reference daemon.
 * @mutant: the deliberately broken behaviour, VC_MUT_NONE for none
 * @verbose: log every message on stderr
 * @null_mode: complete every chain with used.len 0 without calling the
 *             device (benchmark only; not conforming)
 * @max_mem_slots: the GET_MAX_MEM_SLOTS answer, 1..VC_BE_MAX_MEM_SLOTS
 */
typedef struct VcBeOptions {
    VcMutant mutant;
    bool verbose;
    bool null_mode;
    unsigned max_mem_slots;
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
 * vc_be_gpa_to_hva:
 * @be: back end
 * @gpa: guest-physical address
 * @len: bytes that must all be mapped
 *
 * Translates through the memory table's guest_phys_addr. The whole range
 * must lie inside one region.
 *
 * Returns: our pointer to @gpa, or NULL.
 */
void *vc_be_gpa_to_hva(VcBe *be, uint64_t gpa, uint64_t len);

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
 * vc_be_main:
 * @argc: from main()
 * @argv: from main()
 * @dev: the device
 *
 * The whole daemon: parses the options of vhost-user.rst "Backend program
 * conventions" (--socket-path, --fd, --print-capabilities) and ours
 * (--mutant, --list-mutants, -v/--verbose, --max-mem-slots, --null,
 * --help), then serves connections until SIGTERM or SIGINT. Never
 * daemonizes (except as the cli-daemonize mutant).
 *
 * Returns: the process exit status: 0 after a clean stop, 1 on a bad option
 * or a failed initialisation (after a one-line message on stderr).
 */
int vc_be_main(int argc, char **argv, const VcBeDevice *dev);

#endif /* VC_BE_H */
