/*
 * vc-mutants.h -- deliberately broken variants of the reference back ends.
 *
 * Each mutant breaks exactly one rule of ../../../shared/SPEC-FACTS.md
 * section 7 (or a virtio rule, VIO-*) and behaves like the reference in
 * everything else. The conformance self-tests run the checks against them:
 * the check named by the rule ID must FAIL (or WARN for a SHOULD rule) and
 * the rest must not.
 *
 * The table lives in the back-end library, not in a daemon, because the
 * hooks sit in the library code that a daemon's rule depends on (reply
 * framing, ring processing, memory table). A hook is a plain
 * `if (be->mutant == VC_MUT_...)` at the one spot where the rule applies.
 */
#ifndef VC_MUTANTS_H
#define VC_MUTANTS_H

#include <stdio.h>

/*
 * X(ENUM, "name", "RULE-ID", "one-line description")
 * The order is the order of --list-mutants; names and rule IDs are stable.
 */
#define VC_MUTANTS(X)                                                                            \
    X(REPLY_BIT_CLEAR, "reply-bit-clear", "VU-HDR-01",                                           \
      "every reply has flags 0x1 (REPLY bit clear)")                                             \
    X(REPLY_VERSION_2, "reply-version-2", "VU-HDR-02",                                           \
      "every reply has version bits 2 (flags 0x6)")                                              \
    X(REPLY_EXTRA_FLAGS, "reply-extra-flags", "VU-HDR-03",                                       \
      "every reply also has NEED_REPLY set (flags 0xd)")                                         \
    X(REPLY_WRONG_SIZE, "reply-wrong-size", "VU-HDR-04",                                         \
      "the GET_MAX_MEM_SLOTS reply has size 4 instead of 8")                                     \
    X(CLOSE_ON_EARLY_VRING, "close-on-early-vring", "VU-HDR-05",                                 \
      "closes the connection on SET_VRING_NUM before any memory table")                          \
    X(NEEDS_WHOLE_MESSAGE, "needs-whole-message", "VU-HDR-06",                                   \
      "reads a payload with one non-blocking recv; a short read closes the connection")          \
    X(GET_FEATURES_ONCE, "get-features-once", "VU-NEG-01",                                       \
      "never answers GET_FEATURES while any ring is started")                                    \
    X(PFEAT_AFTER_FEATURES, "pfeat-after-features", "VU-NEG-02",                                 \
      "SET_PROTOCOL_FEATURES before the first SET_FEATURES is acked but not stored")             \
    X(GET_PFEAT_ONCE, "get-pfeat-once", "VU-NEG-03",                                             \
      "answers GET_PROTOCOL_FEATURES only the first time on a connection")                       \
    X(NO_MQ, "no-mq", "VU-NEG-04",                                                               \
      "does not offer PROTOCOL_F_MQ (GET_QUEUE_NUM still answered)")                             \
    X(OFFERS_INFLIGHT_BASE, "offers-inflight-base", "VU-NEG-06",                                 \
      "offers GET_VRING_BASE_INFLIGHT (bit 20) without INFLIGHT_SHMFD (bit 12)")                 \
    X(OFFERS_CONFIG, "offers-config", "VU-NEG-07",                                               \
      "offers PROTOCOL_F_CONFIG but answers every GET_CONFIG with an empty payload")             \
    X(PROCESS_ON_SET_KICK, "process-on-set-kick", "VU-RING-01",                                  \
      "starts a ring at SET_VRING_KICK and processes it without waiting for a kick")             \
    X(ENABLE_RESET_BY_KICK, "enable-reset-by-kick", "VU-RING-02",                                \
      "SET_VRING_KICK resets the ring's enable state to disabled")                               \
    X(IGNORE_DISABLE, "ignore-disable", "VU-RING-03",                                            \
      "processes a started ring even while it is disabled")                                      \
    X(STALL_AFTER_FIRST_KICK, "stall-after-first-kick", "VU-RING-04",                            \
      "stops watching a ring's kick fd after its first kick")                                    \
    X(START_ENABLED, "start-enabled", "VU-RING-05",                                              \
      "rings begin enabled even with PROTOCOL_FEATURES negotiated")                              \
    X(ONE_PER_KICK, "one-per-kick", "VU-RING-06",                                                \
      "processes one available chain per kick instead of draining the ring")                     \
    X(RUN_AFTER_GET_BASE, "run-after-get-base", "VU-RING-07",                                    \
      "GET_VRING_BASE does not stop the ring: later kicks are still processed")                  \
    X(ALWAYS_NEED_ENABLE, "always-need-enable", "VU-RING-08",                                    \
      "SET_FEATURES without PROTOCOL_FEATURES does not enable the rings")                        \
    X(IGNORE_SET_BASE, "ignore-set-base", "VU-VB-01",                                            \
      "ignores SET_VRING_BASE: consumption starts at avail index 0")                             \
    X(GET_BASE_ZERO, "get-base-zero", "VU-VB-02",                                                \
      "GET_VRING_BASE always answers num = 0")                                                   \
    X(REPLY_BEFORE_DRAIN, "reply-before-drain", "VU-VB-04",                                      \
      "completes chains ~100 ms after fetching them; GET_VRING_BASE does not wait for them")     \
    X(GET_BASE_RESETS, "get-base-resets", "VU-VB-06",                                            \
      "GET_VRING_BASE resets the ring's next avail index to 0 after replying")                   \
    X(NO_WRAP, "no-wrap", "VIO-RING-003",                                                        \
      "compares avail indices as plain integers: stalls when avail->idx wraps")                  \
    X(NO_ACK_SET_OWNER, "no-ack-set-owner", "VU-RA-01",                                          \
      "never sends the REPLY_ACK ack for SET_OWNER")                                             \
    X(ACK_ALWAYS_ZERO, "ack-always-zero", "VU-RA-02",                                            \
      "acks every request with 0, also the ones it rejected")                                    \
    X(DOUBLE_REPLY, "double-reply", "VU-RA-03",                                                  \
      "answers GET_FEATURES with NEED_REPLY twice: the features and an extra ack")               \
    X(ACK_WITHOUT_NEGOTIATION, "ack-without-negotiation", "VU-RA-04",                            \
      "acks NEED_REPLY requests even when REPLY_ACK was not negotiated")                         \
    X(RINGS_BY_GPA, "rings-by-gpa", "VU-MEM-01",                                                 \
      "translates SET_VRING_ADDR ring addresses as guest-physical addresses")                    \
    X(DESCS_BY_UVA, "descs-by-uva", "VU-MEM-02",                                                 \
      "translates descriptor addresses as user addresses")                                       \
    X(IGNORE_MMAP_OFFSET, "ignore-mmap-offset", "VU-MEM-05",                                     \
      "maps every region from offset 0 of its fd, ignoring mmap_offset")                         \
    X(ADD_MEM_REG_MAX_8, "add-mem-reg-max-8", "VU-MEM-06",                                       \
      "ADD_MEM_REG beyond 8 live regions is acked but not mapped")                               \
    X(REM_MEM_REG_NEEDS_OFFSET, "rem-mem-reg-needs-offset", "VU-MEM-07",                         \
      "REM_MEM_REG also matches mmap_offset; no match is nacked")                                \
    X(REM_MEM_REG_LEAKS_FD, "rem-mem-reg-leaks-fd", "VU-MEM-08",                                 \
      "never closes an fd that comes with REM_MEM_REG")                                          \
    X(MAX_SLOTS_SHRINK, "max-slots-shrink", "VU-MEM-09",                                         \
      "GET_MAX_MEM_SLOTS answers 8 on every connection after the first")                         \
    X(STALE_RINGS_AFTER_MEM_TABLE, "stale-rings-after-mem-table", "VU-MEM-11",                   \
      "a new SET_MEM_TABLE leaves ring pointers in the unmapped old table")                      \
    X(QUEUE_NUM_ZERO, "queue-num-zero", "VU-MQ-01",                                              \
      "GET_QUEUE_NUM answers 0")                                                                 \
    X(CRASH_ON_BAD_INDEX, "crash-on-bad-index", "VU-MQ-02",                                      \
      "a vring request naming a ring index >= the queue count calls abort()")                    \
    X(NO_KICK_POLLING, "no-kick-polling", "VU-KICK-01",                                          \
      "a ring whose SET_VRING_KICK had the NOFD bit is never processed")                         \
    X(NEEDS_CALL_FD, "needs-call-fd", "VU-CALL-01",                                              \
      "a ring whose SET_VRING_CALL had the NOFD bit is not processed")                           \
    X(NO_CALL, "no-call", "VU-CALL-03",                                                          \
      "never writes the call notifier")                                                          \
    X(IGNORE_NO_INTERRUPT, "ignore-no-interrupt", "VIO-RING-001",                                \
      "without EVENT_IDX signals even when avail->flags has NO_INTERRUPT")                       \
    X(IGNORE_USED_EVENT, "ignore-used-event", "VIO-RING-002",                                    \
      "with EVENT_IDX signals after every batch, ignoring used_event")                           \
    X(INDIRECT_AS_DIRECT, "indirect-as-direct", "VIO-RING-004",                                  \
      "treats an INDIRECT descriptor as a writable buffer and fills the table")                  \
    X(KICK_VALUE_ONE, "kick-value-one", "VU-NTF-01",                                             \
      "acts on a kick only when the 8-byte value read equals 1")                                 \
    X(PIPE_UNSUPPORTED, "pipe-unsupported", "VU-NTF-02",                                         \
      "ignores kick and call fds that are pipes, as if they were absent")                        \
    X(NO_ERR_SIGNAL, "no-err-signal", "VU-ERR-01",                                               \
      "stops a ring on a ring error but never writes the err notifier")                          \
    X(ZERO_LEN, "zero-len", "VIO-RNG-001",                                                       \
      "writes nothing and completes every chain with used.len 0")                                \
    X(LEN_OVERSTATED, "len-overstated", "VIO-RNG-002",                                           \
      "fills half of the writable space but reports all of it in used.len")                      \
    X(WRITE_READABLE, "write-readable", "VIO-RNG-003",                                           \
      "also writes random bytes into device-readable descriptors")                               \
    X(OVERRUN, "overrun", "VIO-RNG-004",                                                         \
      "writes 16 bytes past the end of each chain's last writable descriptor")                   \
    X(USED_PER_DESCRIPTOR, "used-per-descriptor", "VIO-RNG-005",                                 \
      "writes one used entry per descriptor instead of one per chain")                           \
    X(STATUS_NOT_STORED, "status-not-stored", "VU-STS-01",                                       \
      "SET_STATUS is acked but ignored: GET_STATUS always answers 0")                            \
    X(RESET_KEEPS_RINGS, "reset-keeps-rings", "VU-RST-02",                                       \
      "RESET_DEVICE leaves the rings started and enabled")                                       \
    X(RESET_KEEPS_STATUS, "reset-keeps-status", "VU-RST-03",                                     \
      "RESET_DEVICE does not reset the device status")                                           \
    X(NACK_BACKEND_REQ, "nack-backend-req", "VU-BCH-04",                                         \
      "acks SET_BACKEND_REQ_FD with 1 although it keeps the channel")                            \
    X(CLI_NO_SOCKET_PATH, "cli-no-socket-path", "VU-CLI-01",                                     \
      "listens on PATH.other instead of --socket-path PATH")                                     \
    X(CLI_NO_FD, "cli-no-fd", "VU-CLI-02",                                                       \
      "exits 1 when started with --fd")                                                          \
    X(CLI_ACCEPTS_BOTH, "cli-accepts-both", "VU-CLI-03",                                         \
      "accepts --socket-path and --fd together (uses --fd)")                                     \
    X(CLI_BAD_CAPABILITIES, "cli-bad-capabilities", "VU-CLI-04",                                 \
      "--print-capabilities prints 'type: rng' instead of JSON")                                 \
    X(CLI_DAEMONIZE, "cli-daemonize", "VU-CLI-05",                                               \
      "forks after parsing options; the parent exits 0 at once")                                 \
    X(CLI_IGNORE_SIGTERM, "cli-ignore-sigterm", "VU-CLI-06",                                     \
      "ignores SIGTERM")

#define VC_MUT_ENUM(e, name, rule, desc) VC_MUT_##e,
typedef enum VcMutant {
    VC_MUT_NONE = 0,    /* the conforming reference */
    VC_MUTANTS(VC_MUT_ENUM)
    VC_MUT__COUNT
} VcMutant;
#undef VC_MUT_ENUM

/** VcMutantInfo: one row of the mutant table. */
typedef struct VcMutantInfo {
    VcMutant id;
    const char *name;     /* "reply-bit-clear": the --mutant argument */
    const char *rule;     /* "VU-HDR-01": the one rule it breaks */
    const char *desc;     /* one line */
} VcMutantInfo;

/**
 * vc_mutant_lookup:
 * @name: a mutant name as given to --mutant
 * @out: (out): the mutant
 *
 * Returns: 0, or -1 when no mutant has that name.
 */
int vc_mutant_lookup(const char *name, VcMutant *out);

/**
 * vc_mutant_info:
 * @m: a mutant, not VC_MUT_NONE
 *
 * Returns: its table row (static), or NULL for VC_MUT_NONE or an
 * out-of-range value.
 */
const VcMutantInfo *vc_mutant_info(VcMutant m);

/**
 * vc_mutant_print_list:
 * @out: stream
 *
 * Prints "NAME RULE-ID description", one mutant a line, in table order.
 */
void vc_mutant_print_list(FILE *out);

#endif /* VC_MUTANTS_H */
