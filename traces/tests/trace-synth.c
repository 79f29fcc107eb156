/*
 * trace-synth.c -- writes a trace holding every front-end and back-end
 * request with a plausible payload, its reply, unknown ids, a raw and an
 * oversized message, markers and datapath events, so that the Lua dissector
 * and `trace show` can be compared on every row of vc-msg-table.h.
 *
 * Usage: trace-synth FILE.pcap
 */
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vc-trace.h"

static void
fill(VcChannel ch, VcMsg *m, uint32_t req)
{
    const VcMsgInfo *info = vc_msg_info(ch, req);

    /* A recognisable pattern first, then the fields that decide the size. */
    for (unsigned i = 0; i < 64; i++) {
        m->payload.raw[i] = (uint8_t)(req + i);
    }
    switch (info ? info->payload : VC_PL_OPAQUE) {
    case VC_PL_U64:
        m->payload.u64 = 0x100000000ull * req + req;
        if (ch == VC_CHAN_MAIN && req >= VHOST_USER_SET_VRING_KICK &&
            req <= VHOST_USER_SET_VRING_ERR) {
            m->payload.u64 = req % 4;   /* a ring index, fd attached */
        }
        break;
    case VC_PL_VRING_STATE:
        m->payload.state.index = req % 4;
        m->payload.state.num = 256;
        break;
    case VC_PL_VRING_ADDR:
        m->payload.addr.index = req % 4;
        m->payload.addr.flags = 0;
        break;
    case VC_PL_MEM_TABLE:
        m->payload.memory.nregions = 2;
        break;
    case VC_PL_CONFIG:
        m->payload.config.offset = 0;
        m->payload.config.size = 4;
        m->payload.config.flags = 0;
        break;
    case VC_PL_VRING_AREA:
        m->payload.area.u64 = 1;
        break;
    case VC_PL_OPAQUE:
        m->hdr.size = 24;
        return;
    default:
        break;
    }
    vc_msg_set_size(ch, m);
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) err = NULL;
    g_autofree VcMsg *m = g_new0(VcMsg, 1);
    VcTrace *t;
    int mfd, efd;

    if (argc != 2) {
        fprintf(stderr, "usage: trace-synth FILE.pcap\n");
        return 2;
    }
    t = vc_trace_open(argv[1], VC_TRACE_OPEN_DATAPATH, &err);
    if (!t) {
        fprintf(stderr, "trace-synth: %s\n", err->message);
        return 99;
    }
    mfd = memfd_create("synth", MFD_CLOEXEC);
    efd = eventfd(0, EFD_CLOEXEC);
    if (mfd < 0 || efd < 0 || ftruncate(mfd, 1 << 21) < 0) {
        perror("trace-synth");
        return 99;
    }
    vc_trace_write_mark(t, VC_TRACE_CONN_NONE, "every front-end request");
    for (uint32_t req = 1; req <= VHOST_USER_MAX; req++) {
        const VcMsgInfo *info = vc_msg_info(VC_CHAN_MAIN, req);

        vc_msg_init(m, req, VHOST_USER_NEED_REPLY_MASK);
        fill(VC_CHAN_MAIN, m, req);
        m->nfds = 0;
        if (info && info->fds != VC_FDS_NONE) {
            m->fds[0] = info->payload == VC_PL_MEM_TABLE || info->payload == VC_PL_MEM_REG ? mfd
                                                                                          : efd;
            m->fds[1] = mfd;
            m->nfds = info->fds == VC_FDS_PER_REGION ? 2 : 1;
        }
        vc_trace_write_msg(t, 0, VC_DIR_F2B, m, 0);
        /* The reply: the reply payload kind of the row (an ack when it is U64). */
        vc_msg_init(m, req, VHOST_USER_REPLY_MASK);
        if (info && info->reply_payload == VC_PL_VRING_STATE) {
            m->payload.state.index = req % 4;
            m->payload.state.num = 42;
            m->hdr.size = 8;
        } else if (info && info->reply_payload == VC_PL_CONFIG_REPLY) {
            m->payload.config.size = 4;
            m->hdr.size = 16;
        } else if (info && info->reply_payload == VC_PL_INFLIGHT) {
            m->payload.inflight.mmap_size = 4096;
            m->payload.inflight.num_queues = 2;
            m->payload.inflight.queue_size = 256;
            m->hdr.size = 24;
        } else if (info && info->reply_payload == VC_PL_SHMEM_CONFIG) {
            m->payload.shmem.nregions = 1;
            m->payload.shmem.memory_sizes[3] = 0x10000;
            m->hdr.size = sizeof(VhostUserShMemConfig);
        } else if (info && info->reply_payload != VC_PL_NONE) {
            m->payload.u64 = req == VHOST_USER_GET_FEATURES ? 0x170000000ull
                             : req == VHOST_USER_GET_PROTOCOL_FEATURES ? 0x1a029ull : 0;
            m->hdr.size = 8;
        }
        m->nfds = 0;
        vc_trace_write_msg(t, 0, VC_DIR_B2F, m, 0);
    }
    vc_trace_write_mark(t, VC_TRACE_CONN_NONE, "every back-end request");
    for (uint32_t req = 1; req <= VHOST_USER_BACKEND_MAX; req++) {
        const VcMsgInfo *info = vc_msg_info(VC_CHAN_BACKEND, req);

        vc_msg_init(m, req, VHOST_USER_NEED_REPLY_MASK);
        fill(VC_CHAN_BACKEND, m, req);
        m->nfds = 0;
        if (info && info->fds == VC_FDS_ONE) {
            m->fds[0] = mfd;
            m->nfds = 1;
        }
        vc_trace_write_msg(t, 1, VC_DIR_B2F, m, 0);
        vc_msg_init(m, req, VHOST_USER_REPLY_MASK);
        m->hdr.size = 8;
        m->payload.u64 = 0;
        m->nfds = 0;
        vc_trace_write_msg(t, 1, VC_DIR_F2B, m, 0);
    }
    vc_trace_write_mark(t, VC_TRACE_CONN_NONE, "odd messages");
    /* Raw bytes, and a header that claims more than the trace can hold. */
    vc_msg_init(m, VHOST_USER_GET_FEATURES, 0x30);
    vc_trace_write_msg(t, 2, VC_DIR_F2B, m, 7);
    vc_msg_init(m, VHOST_USER_GET_CONFIG, VHOST_USER_REPLY_MASK);
    m->hdr.size = 9000;
    vc_trace_write_msg(t, 2, VC_DIR_B2F, m, 0);
    vc_msg_init(m, 99, 0);
    vc_trace_write_msg(t, 2, VC_DIR_F2B, m, 0);
    vc_msg_init(m, 77, VHOST_USER_NEED_REPLY_MASK);
    vc_trace_write_msg(t, 3, VC_DIR_B2F, m, 0);
    vc_trace_write_vq(t, 2, VC_TRACE_KICK, 1, 0, 0);
    vc_trace_write_vq(t, 2, VC_TRACE_AVAIL, 1, 5, 4096);
    vc_trace_write_vq(t, 2, VC_TRACE_CALL, 1, 0, 0);
    vc_trace_write_vq(t, 2, VC_TRACE_USED, 1, 5, 512);
    close(mfd);
    close(efd);
    if (!vc_trace_close(t, &err)) {
        fprintf(stderr, "trace-synth: %s\n", err->message);
        return 99;
    }
    return 0;
}
