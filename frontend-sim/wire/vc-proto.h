/*
 * vc-proto.h -- vhost-user wire constants and payload structs.
 *
 * Names follow docs/interop/vhost-user.rst verbatim (current names, after the
 * master/slave -> front-end/back-end rename). Layouts are the ones QEMU puts
 * on the wire on x86-64 (see ../shared/SPEC-FACTS.md section 2.2). Where the
 * kernel's <linux/vhost_types.h> already defines a payload with the same
 * layout (vring state, vring address, IOTLB message) we use the kernel's
 * struct and only assert its size here.
 *
 * All integers are in host byte order, as the spec says.
 */
#ifndef VC_PROTO_H
#define VC_PROTO_H

#include <stdint.h>
#include <linux/vhost_types.h>

/* Header flags (vhost-user.rst "Header"). */
#define VHOST_USER_VERSION          0x1
#define VHOST_USER_VERSION_MASK     0x3
#define VHOST_USER_REPLY_MASK       (0x1 << 2)
#define VHOST_USER_NEED_REPLY_MASK  (0x1 << 3)

/* Ring index encoding of SET_VRING_KICK/CALL/ERR and the vring area u64. */
#define VHOST_USER_VRING_IDX_MASK   0xff
#define VHOST_USER_VRING_NOFD_MASK  (0x1 << 8)

/* SET_MEM_TABLE carries at most this many regions (and fds). */
#define VHOST_MEMORY_BASELINE_NREGIONS 8
/* A back-end-channel message carries at most this many fds. */
#define VHOST_USER_BACKEND_MAX_FDS  8
/* QEMU's limit on config space bytes in GET_CONFIG/SET_CONFIG. */
#define VHOST_USER_MAX_CONFIG_SIZE  256
/* Dirty log granularity (vhost-user.rst "Migration"). */
#define VHOST_LOG_PAGE              0x1000

/* Virtio feature bit 30, reused by vhost-user for protocol features. */
#define VHOST_USER_F_PROTOCOL_FEATURES 30

/* SET_DEVICE_STATE_FD reply: bit 8 set means "no fd returned". */
#define VHOST_USER_DEVICE_STATE_NOFD_MASK (0x1 << 8)

/* Front-end requests, sent on the main socket (ids 1..44). */
typedef enum VhostUserRequest {
    VHOST_USER_NONE = 0,
    VHOST_USER_GET_FEATURES = 1,
    VHOST_USER_SET_FEATURES = 2,
    VHOST_USER_SET_OWNER = 3,
    VHOST_USER_RESET_OWNER = 4,
    VHOST_USER_SET_MEM_TABLE = 5,
    VHOST_USER_SET_LOG_BASE = 6,
    VHOST_USER_SET_LOG_FD = 7,
    VHOST_USER_SET_VRING_NUM = 8,
    VHOST_USER_SET_VRING_ADDR = 9,
    VHOST_USER_SET_VRING_BASE = 10,
    VHOST_USER_GET_VRING_BASE = 11,
    VHOST_USER_SET_VRING_KICK = 12,
    VHOST_USER_SET_VRING_CALL = 13,
    VHOST_USER_SET_VRING_ERR = 14,
    VHOST_USER_GET_PROTOCOL_FEATURES = 15,
    VHOST_USER_SET_PROTOCOL_FEATURES = 16,
    VHOST_USER_GET_QUEUE_NUM = 17,
    VHOST_USER_SET_VRING_ENABLE = 18,
    VHOST_USER_SEND_RARP = 19,
    VHOST_USER_NET_SET_MTU = 20,
    VHOST_USER_SET_BACKEND_REQ_FD = 21,
    VHOST_USER_IOTLB_MSG = 22,
    VHOST_USER_SET_VRING_ENDIAN = 23,
    VHOST_USER_GET_CONFIG = 24,
    VHOST_USER_SET_CONFIG = 25,
    VHOST_USER_CREATE_CRYPTO_SESSION = 26,
    VHOST_USER_CLOSE_CRYPTO_SESSION = 27,
    VHOST_USER_POSTCOPY_ADVISE = 28,
    VHOST_USER_POSTCOPY_LISTEN = 29,
    VHOST_USER_POSTCOPY_END = 30,
    VHOST_USER_GET_INFLIGHT_FD = 31,
    VHOST_USER_SET_INFLIGHT_FD = 32,
    VHOST_USER_GPU_SET_SOCKET = 33,
    VHOST_USER_RESET_DEVICE = 34,
    VHOST_USER_VRING_KICK = 35,
    VHOST_USER_GET_MAX_MEM_SLOTS = 36,
    VHOST_USER_ADD_MEM_REG = 37,
    VHOST_USER_REM_MEM_REG = 38,
    VHOST_USER_SET_STATUS = 39,
    VHOST_USER_GET_STATUS = 40,
    VHOST_USER_GET_SHARED_OBJECT = 41,
    VHOST_USER_SET_DEVICE_STATE_FD = 42,
    VHOST_USER_CHECK_DEVICE_STATE = 43,
    VHOST_USER_GET_SHMEM_CONFIG = 44,
    VHOST_USER_MAX
} VhostUserRequest;

/* Back-end requests, sent on the back-end channel (ids 1..10). */
typedef enum VhostUserBackendRequest {
    VHOST_USER_BACKEND_NONE = 0,
    VHOST_USER_BACKEND_IOTLB_MSG = 1,
    VHOST_USER_BACKEND_CONFIG_CHANGE_MSG = 2,
    VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG = 3,
    VHOST_USER_BACKEND_VRING_CALL = 4,
    VHOST_USER_BACKEND_VRING_ERR = 5,
    VHOST_USER_BACKEND_SHARED_OBJECT_ADD = 6,
    VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE = 7,
    VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP = 8,
    VHOST_USER_BACKEND_SHMEM_MAP = 9,
    VHOST_USER_BACKEND_SHMEM_UNMAP = 10,
    VHOST_USER_BACKEND_MAX
} VhostUserBackendRequest;

/* Protocol feature bits (GET/SET_PROTOCOL_FEATURES). */
typedef enum VhostUserProtocolFeature {
    VHOST_USER_PROTOCOL_F_MQ = 0,
    VHOST_USER_PROTOCOL_F_LOG_SHMFD = 1,
    VHOST_USER_PROTOCOL_F_RARP = 2,
    VHOST_USER_PROTOCOL_F_REPLY_ACK = 3,
    VHOST_USER_PROTOCOL_F_NET_MTU = 4,
    VHOST_USER_PROTOCOL_F_BACKEND_REQ = 5,
    VHOST_USER_PROTOCOL_F_CROSS_ENDIAN = 6,
    VHOST_USER_PROTOCOL_F_CRYPTO_SESSION = 7,
    VHOST_USER_PROTOCOL_F_PAGEFAULT = 8,
    VHOST_USER_PROTOCOL_F_CONFIG = 9,
    VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD = 10,
    VHOST_USER_PROTOCOL_F_HOST_NOTIFIER = 11,
    VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD = 12,
    VHOST_USER_PROTOCOL_F_RESET_DEVICE = 13,
    VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS = 14,
    VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15,
    VHOST_USER_PROTOCOL_F_STATUS = 16,
    VHOST_USER_PROTOCOL_F_XEN_MMAP = 17,
    VHOST_USER_PROTOCOL_F_SHARED_OBJECT = 18,
    VHOST_USER_PROTOCOL_F_DEVICE_STATE = 19,
    VHOST_USER_PROTOCOL_F_GET_VRING_BASE_INFLIGHT = 20,
    VHOST_USER_PROTOCOL_F_GPA_ADDRESSES = 21,
    VHOST_USER_PROTOCOL_F_SHMEM = 22,
    VHOST_USER_PROTOCOL_F_MAX
} VhostUserProtocolFeature;

/* Spellings the spec's feature table uses for two of the bits above. */
#define VHOST_USER_PROTOCOL_F_MTU       VHOST_USER_PROTOCOL_F_NET_MTU
#define VHOST_USER_PROTOCOL_F_SHMEM_MAP VHOST_USER_PROTOCOL_F_SHMEM

/* The 12-byte message header. */
typedef struct VhostUserHeader {
    uint32_t request;
    uint32_t flags;
    uint32_t size;
} __attribute__((packed)) VhostUserHeader;

/* One memory region: SET_MEM_TABLE entries and ADD/REM_MEM_REG. */
typedef struct VhostUserMemoryRegion {
    uint64_t guest_phys_addr;
    uint64_t memory_size;
    uint64_t userspace_addr;
    uint64_t mmap_offset;
} VhostUserMemoryRegion;

/* SET_MEM_TABLE payload. QEMU sends 8 + 32 * nregions bytes. */
typedef struct VhostUserMemory {
    uint32_t nregions;
    uint32_t padding;
    VhostUserMemoryRegion regions[VHOST_MEMORY_BASELINE_NREGIONS];
} VhostUserMemory;

/* ADD_MEM_REG / REM_MEM_REG payload. */
typedef struct VhostUserMemRegMsg {
    uint64_t padding;
    VhostUserMemoryRegion region;
} VhostUserMemRegMsg;

/* SET_LOG_BASE payload (the spec's table says u64; QEMU sends this). */
typedef struct VhostUserLog {
    uint64_t mmap_size;
    uint64_t mmap_offset;
} VhostUserLog;

/* GET_CONFIG / SET_CONFIG payload; 12 + size bytes go on the wire. */
typedef struct VhostUserConfig {
    uint32_t offset;
    uint32_t size;
    uint32_t flags;
    uint8_t region[VHOST_USER_MAX_CONFIG_SIZE];
} VhostUserConfig;

#define VHOST_USER_CONFIG_HDR_SIZE 12u
#define VHOST_SET_CONFIG_TYPE_FRONTEND  0   /* ordinary write */
#define VHOST_SET_CONFIG_TYPE_MIGRATION 1   /* write during live migration */

/* BACKEND_VRING_HOST_NOTIFIER_MSG payload. */
typedef struct VhostUserVringArea {
    uint64_t u64;
    uint64_t size;
    uint64_t offset;
} VhostUserVringArea;

/*
 * GET_INFLIGHT_FD / SET_INFLIGHT_FD payload. Not packed on purpose: QEMU
 * and libvhost-user send the naturally aligned 24 bytes.
 */
typedef struct VhostUserInflight {
    uint64_t mmap_size;
    uint64_t mmap_offset;
    uint16_t num_queues;
    uint16_t queue_size;
} VhostUserInflight;

/*
 * vhost-user.rst "Inflight I/O tracking": the per-queue regions of the inflight buffer, as the
 * back end keeps them and a front end may read them (little-endian fields). desc[] starts at
 * 16 (split) and 32 (packed).
 */
typedef struct VcInflightDescSplit {
    uint8_t inflight;
    uint8_t padding[5];
    uint16_t next;
    uint64_t counter;
} VcInflightDescSplit;

typedef struct VcInflightSplit {
    uint64_t features;
    uint16_t version;
    uint16_t desc_num;
    uint16_t last_batch_head;
    uint16_t used_idx;
    VcInflightDescSplit desc[];
} VcInflightSplit;

typedef struct VcInflightDescPacked {
    uint8_t inflight;
    uint8_t padding;
    uint16_t next;
    uint16_t last;
    uint16_t num;
    uint64_t counter;
    uint16_t id;
    uint16_t flags;
    uint32_t len;
    uint64_t addr;
} VcInflightDescPacked;

typedef struct VcInflightPacked {
    uint64_t features;
    uint16_t version;
    uint16_t desc_num;
    uint16_t free_head;
    uint16_t old_free_head;
    uint16_t used_idx;
    uint16_t old_used_idx;
    uint8_t used_wrap_counter;
    uint8_t old_used_wrap_counter;
    uint8_t padding[7];
    VcInflightDescPacked desc[];
} VcInflightPacked;

_Static_assert(sizeof(VcInflightDescSplit) == 16, "DescStateSplit is 16 bytes");
_Static_assert(sizeof(VcInflightSplit) == 16, "QueueRegionSplit header is 16 bytes");
_Static_assert(sizeof(VcInflightDescPacked) == 32, "DescStatePacked is 32 bytes");
_Static_assert(sizeof(VcInflightPacked) == 32, "QueueRegionPacked header is 32 bytes");

/* GET_SHARED_OBJECT and BACKEND_SHARED_OBJECT_* payload. */
typedef struct VhostUserShared {
    uint8_t uuid[16];
} VhostUserShared;

/* SET_DEVICE_STATE_FD payload. */
typedef struct VhostUserTransferDeviceState {
    uint32_t direction;
    uint32_t phase;
} VhostUserTransferDeviceState;

#define VHOST_TRANSFER_STATE_DIRECTION_SAVE 0
#define VHOST_TRANSFER_STATE_DIRECTION_LOAD 1
#define VHOST_TRANSFER_STATE_PHASE_STOPPED  0

/* BACKEND_SHMEM_MAP / BACKEND_SHMEM_UNMAP payload. */
typedef struct VhostUserMMap {
    uint8_t shmid;
    uint8_t padding[7];
    uint64_t fd_offset;
    uint64_t shm_offset;
    uint64_t len;
    uint64_t flags;
} VhostUserMMap;

/* VhostUserMMap.flags: bit 0 set maps read-write, clear read-only (no other bit is defined). */
#define VHOST_USER_FLAG_MAP_RW (1u << 0)

#define VHOST_USER_MAX_SHMEM_REGIONS 256

/* GET_SHMEM_CONFIG reply. */
typedef struct VhostUserShMemConfig {
    uint32_t nregions;
    uint32_t padding;
    uint64_t memory_sizes[VHOST_USER_MAX_SHMEM_REGIONS];
} VhostUserShMemConfig;

_Static_assert(sizeof(VhostUserHeader) == 12, "header is 12 bytes");
_Static_assert(sizeof(struct vhost_vring_state) == 8, "vring state is 8 bytes");
_Static_assert(sizeof(struct vhost_vring_addr) == 40, "vring address is 40 bytes");
_Static_assert(sizeof(struct vhost_iotlb_msg) == 32, "IOTLB message is 32 bytes");
_Static_assert(sizeof(VhostUserMemoryRegion) == 32, "region is 32 bytes");
_Static_assert(sizeof(VhostUserMemory) == 8 + 32 * 8, "memory table is 264 bytes");
_Static_assert(sizeof(VhostUserMemRegMsg) == 40, "single region is 40 bytes");
_Static_assert(sizeof(VhostUserLog) == 16, "log description is 16 bytes");
_Static_assert(sizeof(VhostUserVringArea) == 24, "vring area is 24 bytes");
_Static_assert(sizeof(VhostUserInflight) == 24, "inflight description is 24 bytes");
_Static_assert(sizeof(VhostUserShared) == 16, "shared object is 16 bytes");
_Static_assert(sizeof(VhostUserTransferDeviceState) == 8, "transfer state is 8 bytes");
_Static_assert(sizeof(VhostUserMMap) == 40, "mmap request is 40 bytes");
_Static_assert(sizeof(VhostUserShMemConfig) == 2056, "shmem config is 2056 bytes");

#endif /* VC_PROTO_H */
