/*
 * vc-msg-table.h -- one row per vhost-user request: the single source of
 * truth for names, payload kinds, fd rules, reply rules and gating features.
 *
 * Read by vc-msg.c (the codec and its validators), by the reference back-end
 * library (dispatch) and by the trace decoder. Rows follow
 * ../shared/SPEC-FACTS.md sections 3 and 4, which follow vhost-user.rst
 * "Front-end message types" and "Back-end message types", corrected where the
 * spec's tables disagree with its own text and with QEMU (SPEC-FACTS.md
 * section 9: SET_LOG_BASE, GET_INFLIGHT_FD, ADD/REM_MEM_REG, POSTCOPY_LISTEN).
 *
 * Columns:
 *   X(name, request payload, request fds, reply rule, reply payload,
 *     reply fds, features needed, protocol features needed)
 *
 * "features needed" and "protocol features needed" are masks of virtio and
 * VHOST_USER_PROTOCOL_F_* bits that must have been negotiated (or, for
 * GET/SET_PROTOCOL_FEATURES, offered) before the request is legal.
 */
#ifndef VC_MSG_TABLE_H
#define VC_MSG_TABLE_H

#define VC_F(bit)  (1ull << (bit))
#define VC_PF(name) (1ull << VHOST_USER_PROTOCOL_F_##name)
#define VC_F_PROTO VC_F(VHOST_USER_F_PROTOCOL_FEATURES)
#define VC_F_IOMMU VC_F(33) /* VIRTIO_F_ACCESS_PLATFORM */

#define VC_FRONTEND_REQUESTS(X)                                                                  \
    X(GET_FEATURES,          VC_PL_NONE,        VC_FDS_NONE,        VC_REPLY_ALWAYS,             \
      VC_PL_U64,            VC_FDS_NONE,     0,                        0)                        \
    X(SET_FEATURES,          VC_PL_U64,         VC_FDS_NONE,        VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     0,                        0)                        \
    X(SET_OWNER,             VC_PL_NONE,        VC_FDS_NONE,        VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     0,                        0)                        \
    X(RESET_OWNER,           VC_PL_NONE,        VC_FDS_NONE,        VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     0,                        0)                        \
    X(SET_MEM_TABLE,         VC_PL_MEM_TABLE,   VC_FDS_PER_REGION,  VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     0,                        0)                        \
    X(SET_LOG_BASE,          VC_PL_LOG,         VC_FDS_OPT_ONE,     VC_REPLY_IF_LOG_SHMFD,       \
      VC_PL_ANY,            VC_FDS_NONE,     0,                        0)                        \
    X(SET_LOG_FD,            VC_PL_NONE,        VC_FDS_ONE,         VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     0,                        0)                        \
    X(SET_VRING_NUM,         VC_PL_VRING_STATE, VC_FDS_NONE,        VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     0,                        0)                        \
    X(SET_VRING_ADDR,        VC_PL_VRING_ADDR,  VC_FDS_NONE,        VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     0,                        0)                        \
    X(SET_VRING_BASE,        VC_PL_VRING_STATE, VC_FDS_NONE,        VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     0,                        0)                        \
    X(GET_VRING_BASE,        VC_PL_VRING_STATE, VC_FDS_NONE,        VC_REPLY_ALWAYS,             \
      VC_PL_VRING_STATE,    VC_FDS_NONE,     0,                        0)                        \
    X(SET_VRING_KICK,        VC_PL_U64,         VC_FDS_UNLESS_NOFD, VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     0,                        0)                        \
    X(SET_VRING_CALL,        VC_PL_U64,         VC_FDS_UNLESS_NOFD, VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     0,                        0)                        \
    X(SET_VRING_ERR,         VC_PL_U64,         VC_FDS_UNLESS_NOFD, VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     0,                        0)                        \
    X(GET_PROTOCOL_FEATURES, VC_PL_NONE,        VC_FDS_NONE,        VC_REPLY_ALWAYS,             \
      VC_PL_U64,            VC_FDS_NONE,     VC_F_PROTO,               0)                        \
    X(SET_PROTOCOL_FEATURES, VC_PL_U64,         VC_FDS_NONE,        VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     VC_F_PROTO,               0)                        \
    X(GET_QUEUE_NUM,         VC_PL_NONE,        VC_FDS_NONE,        VC_REPLY_ALWAYS,             \
      VC_PL_U64,            VC_FDS_NONE,     VC_F_PROTO,               VC_PF(MQ))                \
    X(SET_VRING_ENABLE,      VC_PL_VRING_STATE, VC_FDS_NONE,        VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     VC_F_PROTO,               0)                        \
    X(SEND_RARP,             VC_PL_U64,         VC_FDS_NONE,        VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     VC_F_PROTO,               VC_PF(RARP))              \
    X(NET_SET_MTU,           VC_PL_U64,         VC_FDS_NONE,        VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     VC_F_PROTO,               VC_PF(NET_MTU))           \
    X(SET_BACKEND_REQ_FD,    VC_PL_NONE,        VC_FDS_ONE,         VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     VC_F_PROTO,               VC_PF(BACKEND_REQ))       \
    X(IOTLB_MSG,             VC_PL_IOTLB,       VC_FDS_NONE,        VC_REPLY_ALWAYS,             \
      VC_PL_U64,            VC_FDS_NONE,     VC_F_IOMMU,               0)                        \
    X(SET_VRING_ENDIAN,      VC_PL_VRING_STATE, VC_FDS_NONE,        VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     VC_F_PROTO,               VC_PF(CROSS_ENDIAN))      \
    X(GET_CONFIG,            VC_PL_CONFIG,      VC_FDS_NONE,        VC_REPLY_ALWAYS,             \
      VC_PL_CONFIG_REPLY,   VC_FDS_NONE,     VC_F_PROTO,               VC_PF(CONFIG))            \
    X(SET_CONFIG,            VC_PL_CONFIG,      VC_FDS_NONE,        VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     VC_F_PROTO,               VC_PF(CONFIG))            \
    X(CREATE_CRYPTO_SESSION, VC_PL_OPAQUE,      VC_FDS_NONE,        VC_REPLY_ALWAYS,             \
      VC_PL_SAME_SIZE,      VC_FDS_NONE,     VC_F_PROTO,               VC_PF(CRYPTO_SESSION))    \
    X(CLOSE_CRYPTO_SESSION,  VC_PL_U64,         VC_FDS_NONE,        VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     VC_F_PROTO,               VC_PF(CRYPTO_SESSION))    \
    X(POSTCOPY_ADVISE,       VC_PL_NONE,        VC_FDS_NONE,        VC_REPLY_ALWAYS,             \
      VC_PL_NONE,           VC_FDS_ONE,      VC_F_PROTO,               VC_PF(PAGEFAULT))         \
    X(POSTCOPY_LISTEN,       VC_PL_NONE,        VC_FDS_NONE,        VC_REPLY_IF_NEED_REPLY,      \
      VC_PL_U64,            VC_FDS_NONE,     VC_F_PROTO,               VC_PF(PAGEFAULT))         \
    X(POSTCOPY_END,          VC_PL_NONE,        VC_FDS_NONE,        VC_REPLY_ALWAYS,             \
      VC_PL_U64,            VC_FDS_NONE,     VC_F_PROTO,               VC_PF(PAGEFAULT))         \
    X(GET_INFLIGHT_FD,       VC_PL_INFLIGHT,    VC_FDS_NONE,        VC_REPLY_ALWAYS,             \
      VC_PL_INFLIGHT,       VC_FDS_INFLIGHT, VC_F_PROTO,               VC_PF(INFLIGHT_SHMFD))    \
    X(SET_INFLIGHT_FD,       VC_PL_INFLIGHT,    VC_FDS_ONE,         VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     VC_F_PROTO,               VC_PF(INFLIGHT_SHMFD))    \
    X(GPU_SET_SOCKET,        VC_PL_NONE,        VC_FDS_ONE,         VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     0,                        0)                        \
    X(RESET_DEVICE,          VC_PL_NONE,        VC_FDS_NONE,        VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     VC_F_PROTO,               VC_PF(RESET_DEVICE))      \
    X(VRING_KICK,            VC_PL_VRING_STATE, VC_FDS_NONE,        VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     VC_F_PROTO,               VC_PF(INBAND_NOTIFICATIONS)) \
    X(GET_MAX_MEM_SLOTS,     VC_PL_NONE,        VC_FDS_NONE,        VC_REPLY_ALWAYS,             \
      VC_PL_U64,            VC_FDS_NONE,     VC_F_PROTO,               VC_PF(CONFIGURE_MEM_SLOTS)) \
    X(ADD_MEM_REG,           VC_PL_MEM_REG,     VC_FDS_ONE,         VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     VC_F_PROTO,               VC_PF(CONFIGURE_MEM_SLOTS)) \
    X(REM_MEM_REG,           VC_PL_MEM_REG,     VC_FDS_OPT_ONE,     VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     VC_F_PROTO,               VC_PF(CONFIGURE_MEM_SLOTS)) \
    X(SET_STATUS,            VC_PL_U64,         VC_FDS_NONE,        VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     VC_F_PROTO,               VC_PF(STATUS))            \
    X(GET_STATUS,            VC_PL_NONE,        VC_FDS_NONE,        VC_REPLY_ALWAYS,             \
      VC_PL_U64,            VC_FDS_NONE,     VC_F_PROTO,               VC_PF(STATUS))            \
    X(GET_SHARED_OBJECT,     VC_PL_SHARED,      VC_FDS_NONE,        VC_REPLY_ALWAYS,             \
      VC_PL_U64,            VC_FDS_OPT_ONE,  VC_F_PROTO,               VC_PF(SHARED_OBJECT))     \
    X(SET_DEVICE_STATE_FD,   VC_PL_DEVSTATE,    VC_FDS_ONE,         VC_REPLY_ALWAYS,             \
      VC_PL_U64,            VC_FDS_DEVSTATE, VC_F_PROTO,               VC_PF(DEVICE_STATE))      \
    X(CHECK_DEVICE_STATE,    VC_PL_NONE,        VC_FDS_NONE,        VC_REPLY_ALWAYS,             \
      VC_PL_U64,            VC_FDS_NONE,     VC_F_PROTO,               VC_PF(DEVICE_STATE))      \
    X(GET_SHMEM_CONFIG,      VC_PL_NONE,        VC_FDS_NONE,        VC_REPLY_ALWAYS,             \
      VC_PL_SHMEM_CONFIG,   VC_FDS_NONE,     VC_F_PROTO,               VC_PF(SHMEM))

/*
 * Back-end channel. The back-end sends these and the front-end replies; the
 * "reply" columns describe the front-end's answer.
 */
#define VC_BACKEND_REQUESTS(X)                                                                   \
    X(IOTLB_MSG,             VC_PL_IOTLB,       VC_FDS_NONE,        VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     VC_F_IOMMU,               VC_PF(BACKEND_REQ))       \
    X(CONFIG_CHANGE_MSG,     VC_PL_NONE,        VC_FDS_NONE,        VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     0,                VC_PF(BACKEND_REQ) | VC_PF(CONFIG)) \
    X(VRING_HOST_NOTIFIER_MSG, VC_PL_VRING_AREA, VC_FDS_UNLESS_NOFD, VC_REPLY_ACK,               \
      VC_PL_U64,            VC_FDS_NONE,     0,         VC_PF(BACKEND_REQ) | VC_PF(HOST_NOTIFIER)) \
    X(VRING_CALL,            VC_PL_VRING_STATE, VC_FDS_NONE,        VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     0, VC_PF(BACKEND_REQ) | VC_PF(INBAND_NOTIFICATIONS)) \
    X(VRING_ERR,             VC_PL_VRING_STATE, VC_FDS_NONE,        VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     0, VC_PF(BACKEND_REQ) | VC_PF(INBAND_NOTIFICATIONS)) \
    X(SHARED_OBJECT_ADD,     VC_PL_SHARED,      VC_FDS_NONE,        VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     0,         VC_PF(BACKEND_REQ) | VC_PF(SHARED_OBJECT)) \
    X(SHARED_OBJECT_REMOVE,  VC_PL_SHARED,      VC_FDS_NONE,        VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     0,         VC_PF(BACKEND_REQ) | VC_PF(SHARED_OBJECT)) \
    X(SHARED_OBJECT_LOOKUP,  VC_PL_SHARED,      VC_FDS_NONE,        VC_REPLY_ALWAYS,             \
      VC_PL_U64,            VC_FDS_OPT_ONE,  0,         VC_PF(BACKEND_REQ) | VC_PF(SHARED_OBJECT)) \
    X(SHMEM_MAP,             VC_PL_MMAP,        VC_FDS_ONE,         VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     0,                 VC_PF(BACKEND_REQ) | VC_PF(SHMEM)) \
    X(SHMEM_UNMAP,           VC_PL_MMAP,        VC_FDS_NONE,        VC_REPLY_ACK,                \
      VC_PL_U64,            VC_FDS_NONE,     0,                 VC_PF(BACKEND_REQ) | VC_PF(SHMEM))

#endif /* VC_MSG_TABLE_H */
