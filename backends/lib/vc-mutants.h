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
 *
 * Every mutant can be given to every reference daemon (rng, blk, net). A
 * mutant whose rule a daemon never exercises (no config space, no
 * SIGUSR1, a protocol feature the daemon does not offer) changes nothing
 * there: that daemon then behaves exactly as its reference. Descriptions
 * of such mutants end with the daemons they affect, e.g. "[blk, net]".
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
      "ignores SIGTERM")                                                                         \
    X(INBAND_NO_CLOSE, "inband-no-close", "VU-NEG-05",                                           \
      "SET_PROTOCOL_FEATURES with INBAND_NOTIFICATIONS but without BACKEND_REQ or REPLY_ACK is accepted") \
    X(CALL_SWAP_STALLS, "call-swap-stalls", "VU-RING-09",                                        \
      "after a SET_VRING_CALL on a started ring, that ring is not processed until set up again") \
    X(STOP_STOPS_ALL, "stop-stops-all", "VU-RING-10",                                            \
      "GET_VRING_BASE on one ring stops every ring [blk, net]")                                  \
    X(TOUCH_USED_AFTER_STOP, "touch-used-after-stop", "VU-SUSP-01",                              \
      "~50 ms after the last ring stops, toggles VRING_USED_F_NO_NOTIFY in its used->flags once") \
    X(CALL_AFTER_STOP, "call-after-stop", "VU-SUSP-02",                                          \
      "~50 ms after the last ring stops, writes its call notifier once")                         \
    X(CHANNEL_WHILE_SUSPENDED, "channel-while-suspended", "VU-SUSP-03",                          \
      "~50 ms after the last ring stops, sends BACKEND_CONFIG_CHANGE_MSG [blk]")                 \
    X(MUTE_WHILE_SUSPENDED, "mute-while-suspended", "VU-SUSP-04",                                \
      "while every started ring is stopped, GET_FEATURES gets no reply")                         \
    X(PACKED_BASE_NO_WRAP, "packed-base-no-wrap", "VU-VB-03",                                    \
      "packed ring: GET_VRING_BASE answers the avail index alone (no wrap counters, no used index)") \
    X(KICK_NOFD_FD_LEAK, "kick-nofd-fd-leak", "VU-KICK-02",                                      \
      "SET_VRING_KICK with NOFD and a stray fd keeps the stray fd open")                         \
    X(INBAND_ONLY_KICKS, "inband-only-kicks", "VU-KICK-03",                                      \
      "with INBAND_NOTIFICATIONS negotiated, eventfd kicks are ignored")                         \
    X(OLD_CALL_FD, "old-call-fd", "VU-CALL-02",                                                  \
      "after SET_VRING_CALL replaces a call fd, signals the old fd too")                         \
    X(ENABLE_APPLIES_TO_ALL, "enable-applies-to-all", "VU-MQ-03",                                \
      "SET_VRING_ENABLE applies to every ring, not just the one named [blk, net]")               \
    X(IOTLB_IGNORED, "iotlb-ignored", "VU-MEM-03",                                               \
      "with IOMMU_PLATFORM negotiated, translates as if there were no IOMMU (no misses)")        \
    X(LOG_MISSES_DATA, "log-misses-data", "VU-LOG-01",                                           \
      "with LOG_ALL, pages written through descriptors are not marked (used ring only) [blk]")   \
    X(LOG_NO_USED, "log-no-used", "VU-LOG-02",                                                   \
      "with VHOST_VRING_F_LOG, used-ring writes are not marked [blk]")                           \
    X(LOG_BIT_MSB, "log-bit-msb", "VU-LOG-03",                                                   \
      "marks page p at bit 7 - p % 8 instead of bit p % 8")                                      \
    X(LOG_OVERWRITE, "log-overwrite", "VU-LOG-04",                                               \
      "stores the log byte with only the new bit set instead of an atomic OR")                   \
    X(LOG_BASE_STALE, "log-base-stale", "VU-LOG-05",                                             \
      "after SET_LOG_BASE replaces the log, keeps writing the old log")                          \
    X(LOG_AFTER_STOP, "log-after-stop", "VU-LOG-06",                                             \
      "~50 ms after the last ring stops, marks one more page in the log")                        \
    X(ADVISE_NO_FD, "advise-no-fd", "VU-PC-01",                                                  \
      "POSTCOPY_ADVISE replies size 0 without the userfaultfd [rng, blk]")                       \
    X(POSTCOPY_LISTEN_NO_REGISTER, "postcopy-listen-no-register", "VU-PC-02",                    \
      "POSTCOPY_LISTEN is acked but memory is not registered with the userfaultfd [rng, blk]")   \
    X(POSTCOPY_ACK_ONLY, "postcopy-ack-only", "VU-PC-03",                                        \
      "after POSTCOPY_LISTEN, SET_MEM_TABLE gets a u64 ack instead of the region table [rng, blk]") \
    X(POSTCOPY_TOUCH_EARLY, "postcopy-touch-early", "VU-PC-04",                                  \
      "touches the first page of each region before the front end's postcopy SET_MEM_TABLE ack [rng, blk]") \
    X(POSTCOPY_ADD_ACK_ONLY, "postcopy-add-ack-only", "VU-PC-05",                                \
      "after POSTCOPY_LISTEN, ADD_MEM_REG gets a u64 ack instead of the region [rng, blk]")      \
    X(END_NO_REPLY, "end-no-reply", "VU-PC-06",                                                  \
      "POSTCOPY_END is not answered [rng, blk]")                                                 \
    X(POSTCOPY_BYPASS_FAULT, "postcopy-bypass-fault", "VU-PC-07",                                \
      "in postcopy, accesses guest memory through a second mapping not registered with the userfaultfd [rng, blk]") \
    X(STATE_ERROR_WITH_FD, "state-error-with-fd", "VU-DS-01",                                    \
      "SET_DEVICE_STATE_FD with an unsupported phase answers 1 and returns an fd")               \
    X(STATE_WRONG_END, "state-wrong-end", "VU-DS-02",                                            \
      "a save returns the read end of a new pipe as its own fd (the wrong direction)")           \
    X(STATE_NO_EOF, "state-no-eof", "VU-DS-03",                                                  \
      "a save writes the state but never closes its end of the pipe")                            \
    X(STATE_LOAD_IGNORED, "state-load-ignored", "VU-DS-04",                                      \
      "a load reads the state to EOF and CHECK_DEVICE_STATE answers 0, but nothing is restored") \
    X(CHECK_STATE_OK_ON_GARBAGE, "check-state-ok-on-garbage", "VU-DS-05",                        \
      "CHECK_DEVICE_STATE answers 0 even after a load of garbage")                               \
    X(RESTORE_REPLAYS_USED, "restore-replays-used", "VU-DS-07",                                  \
      "after a state load, the first kick with no new buffers repeats the last used element")    \
    X(INFLIGHT_NO_FD, "inflight-no-fd", "VU-INF-01",                                             \
      "GET_INFLIGHT_FD answers mmap_size > 0 without the memfd [blk]")                           \
    X(INFLIGHT_SMALL_REGION, "inflight-small-region", "VU-INF-02",                               \
      "GET_INFLIGHT_FD answers a buffer half the size of the spec's layout and tracks nothing [blk]") \
    X(INFLIGHT_NOT_TRACKED, "inflight-not-tracked", "VU-INF-03",                                 \
      "never marks fetched heads in the inflight region [blk]")                                  \
    X(INFLIGHT_NO_RESUBMIT, "inflight-no-resubmit", "VU-INF-04",                                 \
      "after a restart with SET_INFLIGHT_FD, recorded requests are not resubmitted [blk]")       \
    X(INFLIGHT_NEEDS_RING, "inflight-needs-ring", "VU-INF-05",                                   \
      "SET_INFLIGHT_FD before any SET_VRING_NUM is nacked and ignored [blk]")                    \
    X(CONFIG_SHORT_REPLY, "config-short-reply", "VU-CFG-01",                                     \
      "GET_CONFIG answers 4 bytes fewer than asked [blk, net]")                                  \
    X(CONFIG_ERROR_SHORT, "config-error-short", "VU-CFG-02",                                     \
      "a GET_CONFIG it cannot serve answers the 12-byte header alone, not an empty payload [blk, net]") \
    X(CONFIG_OFFSET_0X100, "config-offset-0x100", "VU-CFG-03",                                   \
      "counts GET/SET_CONFIG offsets from 0x100 (offset 0 is refused) [blk, net]")               \
    X(CONFIG_FLAGS_IGNORED, "config-flags-ignored", "VU-CFG-04",                                 \
      "SET_CONFIG with an undefined flags value (e.g. 7) is accepted [blk, net]")                \
    X(CONFIG_RO_WRITABLE, "config-ro-writable", "VU-CFG-05",                                     \
      "SET_CONFIG with flags 0 writing the read-only capacity is accepted and applied [blk]")    \
    X(CONFIG_CHANGE_WITHOUT_CONFIG, "config-change-without-config", "VU-CFG-06",                 \
      "on SIGUSR1 sends BACKEND_CONFIG_CHANGE_MSG even when CONFIG is not negotiated [blk]")     \
    X(BACKEND_REQ_ON_MAIN, "backend-req-on-main", "VU-BCH-01",                                   \
      "on SIGUSR1 sends BACKEND_CONFIG_CHANGE_MSG on the main socket [blk]")                     \
    X(CHANNEL_FD_WITHOUT_SEND_FD, "channel-fd-without-send-fd", "VU-BCH-02",                     \
      "attaches an eventfd to BACKEND_CONFIG_CHANGE_MSG without BACKEND_SEND_FD [blk]")          \
    X(CHANNEL_NINE_FDS, "channel-nine-fds", "VU-BCH-03",                                         \
      "with BACKEND_SEND_FD, attaches 9 fds to BACKEND_CONFIG_CHANGE_MSG [blk]")                 \
    X(INBAND_CALL_NUM_1, "inband-call-num-1", "VU-BCH-05",                                       \
      "BACKEND_VRING_CALL messages carry num = 1")                                               \
    X(INBAND_CALL_WITHOUT_FEATURE, "inband-call-without-feature", "VU-BCH-07",                   \
      "with no call fd and INBAND_NOTIFICATIONS not negotiated, sends BACKEND_VRING_CALL anyway") \
    X(SHARED_OBJECT_UNSOLICITED, "shared-object-unsolicited", "VU-BCH-08",                       \
      "sends BACKEND_SHARED_OBJECT_ADD when a ring starts although SHARED_OBJECT is not negotiated") \
    X(INBAND_CALL_NO_NEED_REPLY, "inband-call-no-need-reply", "VU-BCH-09",                       \
      "BACKEND_VRING_CALL messages do not set NEED_REPLY")                                       \
    X(IOTLB_MISS_WITHOUT_IOMMU, "iotlb-miss-without-iommu", "VU-BCH-10",                         \
      "sends a BACKEND_IOTLB_MSG miss for the used ring when a ring starts without IOMMU_PLATFORM") \
    X(IOTLB_NO_REPLY_INVALIDATE, "iotlb-no-reply-invalidate", "VU-IOTLB-01",                     \
      "IOTLB_MSG invalidations are not answered")                                                \
    X(IOTLB_MISS_NO_PERM, "iotlb-miss-no-perm", "VU-IOTLB-02",                                   \
      "IOTLB misses carry perm = 0")                                                             \
    X(IOTLB_NO_MISS, "iotlb-no-miss", "VU-IOTLB-03",                                             \
      "never sends IOTLB misses: waits for updates it never asks for")                           \
    X(IOTLB_STALE_AFTER_INVALIDATE, "iotlb-stale-after-invalidate", "VU-IOTLB-04",               \
      "keeps using translations after they were invalidated")                                    \
    X(IOMMU_WITHOUT_BACKEND_REQ, "iommu-without-backend-req", "VU-IOTLB-05",                     \
      "offers VIRTIO_F_IOMMU_PLATFORM without BACKEND_REQ")                                      \
    X(SHM_CONFIG_NREGIONS, "shm-config-nregions", "VU-SHM-01",                                   \
      "GET_SHMEM_CONFIG answers nregions 2 with one non-zero size [rng]")                        \
    X(SHM_CONFIG_SHORT, "shm-config-short", "VU-SHM-01",                                         \
      "GET_SHMEM_CONFIG answers 2048 bytes (no size of shmid 255) instead of 2056 [rng]")        \
    X(SHM_CONFIG_CHANGES, "shm-config-changes", "VU-SHM-02",                                     \
      "every GET_SHMEM_CONFIG after the first of a connection doubles region 0 [rng]")           \
    X(SHM_MAP_OVERLAP, "shm-map-overlap", "VU-SHM-03",                                           \
      "when ring 0 starts, also maps a range sharing one page with the first [rng]")             \
    X(SHM_MAP_OUTSIDE, "shm-map-outside", "VU-SHM-03",                                           \
      "maps its range at the end of region 0, one page past its end [rng]")                      \
    X(SHM_MAP_NO_FD, "shm-map-no-fd", "VU-SHM-03",                                               \
      "BACKEND_SHMEM_MAP carries no fd [rng]")                                                   \
    X(SHM_UNMAP_UNKNOWN, "shm-unmap-unknown", "VU-SHM-04",                                       \
      "the unmap at ring 0's stop names the mapped range moved by one page [rng]")               \
    X(SHM_MAP_FLAGS_2, "shm-map-flags-2", "VU-SHM-05",                                           \
      "BACKEND_SHMEM_MAP has flags 2 (undefined) [rng]")                                         \
    X(SHM_MAP_UNUSED_SHMID, "shm-map-unused-shmid", "VU-SHM-05",                                 \
      "maps into shmid 1, whose size is 0 in GET_SHMEM_CONFIG [rng]")                            \
    X(SHM_UNMAP_WHILE_SUSPENDED, "shm-unmap-while-suspended", "VU-SHM-06",                       \
      "unmaps ~50 ms after ring 0 stopped (the device suspended), not before [rng]")             \
    X(SHM_ALIVE_AFTER_RESET, "shm-alive-after-reset", "VU-SHM-06",                               \
      "takes its mapping to survive RESET_DEVICE: no new map, an unmap at the next stop [rng]")  \
    X(RESET_OWNER_DROPS_STATE, "reset-owner-drops-state", "VU-RST-01",                           \
      "RESET_OWNER forgets the memory table and the negotiated features")                        \
    X(STATUS_ZERO_BREAKS, "status-zero-breaks", "VU-STS-02",                                     \
      "after SET_STATUS 0, a SET_STATUS with FEATURES_OK is refused and the rings stop running") \
    X(RARP_IGNORED, "rarp-ignored", "VU-NET-01",                                                 \
      "SEND_RARP is acked but no RARP frame is sent [net]")                                      \
    X(MTU_ACCEPT_ANY, "mtu-accept-any", "VU-NET-02",                                             \
      "NET_SET_MTU accepts any value (0 and 70000 too) [net]")                                   \
    X(GPU_WRONG_RESP_TYPE, "gpu-wrong-resp-type", "VIO-GPU-001",                                 \
      "a successful RESOURCE_DETACH_BACKING is answered with its own type, not OK_NODATA [gpu]") \
    X(GPU_ACCEPT_BAD_ID, "gpu-accept-bad-id", "VIO-GPU-002",                                     \
      "commands naming a resource id never created are answered OK_NODATA [gpu]")                \
    X(GPU_PIXELS_OFF, "gpu-pixels-off", "VIO-GPU-003",                                           \
      "the pixels of VHOST_USER_GPU_UPDATE have red and blue swapped [gpu]")                     \
    X(GPU_FENCE_DROPPED, "gpu-fence-dropped", "VIO-GPU-004",                                     \
      "fenced commands' responses copy fence_id but not VIRTIO_GPU_FLAG_FENCE [gpu]")            \
    X(GPU_CONFIG_SHORT, "gpu-config-short", "VIO-GPU-005",                                       \
      "after SET_FEATURES the config space is 12 bytes: GET_CONFIG of 16 gets no payload [gpu]") \
    X(GPU_SOCKET_BAD_SIZE, "gpu-socket-bad-size", "VIO-GPU-006",                                 \
      "VHOST_USER_GPU_SCANOUT is sent with size 16 (4 bytes of padding), not 12 [gpu]")          \
    X(FS_INIT_BAD_MAJOR, "fs-init-bad-major", "VIO-FS-001",                                      \
      "FUSE_INIT 7.x is answered with major 8 [fs]")                                             \
    X(FS_READ_CORRUPT, "fs-read-corrupt", "VIO-FS-002",                                          \
      "READ flips every bit of the first byte it returns [fs]")                                  \
    X(FS_WRITE_DROPPED, "fs-write-dropped", "VIO-FS-003",                                        \
      "WRITE reports every byte written but writes nothing [fs]")                                \
    X(FS_GETATTR_SIZE, "fs-getattr-size", "VIO-FS-004",                                          \
      "GETATTR reports the size one byte larger than the file (LOOKUP stays right) [fs]")        \
    X(FS_ENOENT_POSITIVE, "fs-enoent-positive", "VIO-FS-005",                                    \
      "LOOKUP of a missing name answers out.error +ENOENT instead of -ENOENT [fs]")              \
    X(FS_HIPRIO_STALLED, "fs-hiprio-stalled", "VIO-FS-006",                                      \
      "never takes a chain off the hiprio queue (FORGETs are never used) [fs]")                  \
    X(FS_UNIQUE_MISMATCH, "fs-unique-mismatch", "VIO-FS-007",                                    \
      "every reply but FUSE_INIT's carries the request's unique + 2 [fs]")                       \
    X(SHARED_OBJECT_CLOSE, "shared-object-close", "VU-SO-01",                                    \
      "GET_SHARED_OBJECT for an unknown UUID closes the connection [rng]")                       \
    X(CLI_NO_EXIT_ON_BAD_SOCKET, "cli-no-exit-on-bad-socket", "VU-CLI-07",                       \
      "keeps running when the --socket-path socket cannot be created")                           \
    X(CRASH_ON_UNKNOWN_REQUEST, "crash-on-unknown-request", "VU-BAD-001",                        \
      "calls abort() on a request id it does not know")                                          \
    X(SHORT_PAYLOAD_ACCEPTED, "short-payload-accepted", "VU-BAD-002",                            \
      "a u64, vring state or vring address payload shorter than its type is accepted, the rest read as 0") \
    X(TOO_MANY_FDS_ABORT, "too-many-fds-abort", "VU-BAD-003",                                    \
      "calls abort() on a request that carries more than 8 fds (an asserted 8-slot fd array)")   \
    X(RING_INDEX_WRAPS, "ring-index-wraps", "VU-BAD-004",                                        \
      "a ring index beyond the queue count is taken modulo the count and acked 0")               \
    X(RING_SIZE_ANY, "ring-size-any", "VU-BAD-005",                                              \
      "SET_VRING_NUM accepts a split ring size that is not a power of two (up to 32768)")        \
    X(DESC_LEN_CLAMPED, "desc-len-clamped", "VIO-BAD-001",                                       \
      "a writable descriptor running past the end of its region is cut where the region ends and the chain completed") \
    X(FOLLOW_LOOPS, "follow-loops", "VIO-BAD-002",                                               \
      "walks a descriptor chain without a length bound: a loop hangs the daemon")                \
    X(LONG_CHAIN_ABORT, "long-chain-abort", "VIO-BAD-003",                                       \
      "calls abort() on a chain longer than the ring instead of refusing it")                    \
    X(ZERO_LEN_WRITTEN, "zero-len-written", "VIO-BAD-004",                                       \
      "writes 16 bytes into a zero-length device-writable descriptor (where mapped)")            \
    X(NESTED_INDIRECT, "nested-indirect", "VIO-BAD-005",                                         \
      "follows an indirect descriptor inside an indirect table (one level deep)")                \
    X(TRUST_USED_IDX, "trust-used-idx", "VIO-BAD-006",                                           \
      "re-reads used->idx from guest memory before every batch, taking a moved index as its own") \
    X(BLK_BAD_CAPACITY, "blk-bad-capacity", "VIO-BLK-001",                                       \
      "config capacity is one sector more than the disk (its last sector cannot be read) [blk]") \
    X(BLK_NUM_QUEUES_ZERO, "blk-num-queues-zero", "VIO-BLK-002",                                 \
      "config num_queues is 0 [blk]")                                                            \
    X(BLK_WCE_NO_FLUSH, "blk-wce-no-flush", "VIO-BLK-003",                                       \
      "offers CONFIG_WCE without FLUSH [blk]")                                                   \
    X(BLK_IN_IOERR, "blk-in-ioerr", "VIO-BLK-004",                                               \
      "IN whose data spans more than one descriptor is answered IOERR [blk]")                    \
    X(BLK_OUT_DROPPED, "blk-out-dropped", "VIO-BLK-005",                                         \
      "OUT is answered OK but its data is never written [blk]")                                  \
    X(BLK_FLUSH_NO_SYNC, "blk-flush-no-sync", "VIO-BLK-006",                                     \
      "a --blk-file is mapped private: writes and FLUSH never reach the file [blk]")             \
    X(BLK_FLUSH_UNSUPP, "blk-flush-unsupp", "VIO-BLK-007",                                       \
      "FLUSH is answered UNSUPP although VIRTIO_BLK_F_FLUSH is offered [blk]")                   \
    X(BLK_GET_ID_BINARY, "blk-get-id-binary", "VIO-BLK-008",                                     \
      "GET_ID writes non-printable bytes (0x01..0x14) [blk]")                                    \
    X(BLK_GET_ID_UNPADDED, "blk-get-id-unpadded", "VIO-BLK-009",                                 \
      "GET_ID writes the ID string without its NUL padding (the rest is left as it was) [blk]")  \
    X(BLK_DISCARD_IOERR, "blk-discard-ioerr", "VIO-BLK-010",                                     \
      "DISCARD is answered IOERR [blk]")                                                         \
    X(BLK_DISCARD_FLAGS_OK, "blk-discard-flags-ok", "VIO-BLK-011",                               \
      "DISCARD with the unmap or an unknown flag is answered OK [blk]")                          \
    X(BLK_WRITE_ZEROES_NOOP, "blk-write-zeroes-noop", "VIO-BLK-012",                             \
      "WRITE_ZEROES is answered OK but nothing is zeroed [blk]")                                 \
    X(BLK_WRITE_ZEROES_FLAGS_OK, "blk-write-zeroes-flags-ok", "VIO-BLK-013",                     \
      "WRITE_ZEROES with an unknown flag is answered OK [blk]")                                  \
    X(BLK_STATUS_3, "blk-status-3", "VIO-BLK-014",                                               \
      "UNSUPP is answered with status byte 3 [blk]")                                             \
    X(BLK_UNKNOWN_TYPE_OK, "blk-unknown-type-ok", "VIO-BLK-015",                                 \
      "unknown request types are answered OK [blk]")                                             \
    X(BLK_NO_RANGE_CHECK, "blk-no-range-check", "VIO-BLK-016",                                   \
      "reads and writes at or across the capacity are answered OK (nothing transferred) [blk]")  \
    X(BLK_MQ_IGNORES_Q1, "blk-mq-ignores-q1", "VIO-BLK-017",                                     \
      "request queues other than the first are never processed [blk]")                           \
    X(BLK_IN_LEN_SHORT, "blk-in-len-short", "VIO-BLK-018",                                       \
      "a successful IN reports used.len without the status byte [blk]")                          \
    X(BLK_LEN_OVERSTATED, "blk-len-overstated", "VIO-BLK-019",                                   \
      "a request that fails reports its whole writable length in used.len [blk]")                \
    X(BLK_RO_WRITES, "blk-ro-writes", "VIO-BLK-020",                                             \
      "with --read-only, OUT is answered OK and written (a file: to a private copy) [blk]")      \
    X(NET_TX_DROP, "net-tx-drop", "VIO-NET-001",                                                 \
      "every third transmitted frame is used but never delivered [net]")                         \
    X(NET_BAD_HDR, "net-bad-hdr", "VIO-NET-002",                                                 \
      "received frames carry flags 0x80 (undefined) in their virtio_net_hdr [net]")              \
    X(NET_NB_UNSET, "net-nb-unset", "VIO-NET-003",                                               \
      "without MRG_RXBUF, num_buffers is 0 [net]")                                               \
    X(NET_MRG_COUNT, "net-mrg-count", "VIO-NET-004",                                             \
      "with MRG_RXBUF, num_buffers is always 1 [net]")                                           \
    X(NET_MQ_ONE_PAIR, "net-mq-one-pair", "VIO-NET-005",                                         \
      "frames sent on queue pairs other than the first are dropped [net]")                       \
    X(NET_DISABLED_TX_STALL, "net-disabled-tx-stall", "VIO-NET-006",                             \
      "a started but disabled TX ring is not processed (frames stay unused) [net]")

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
