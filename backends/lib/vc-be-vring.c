/*
 * vc-be-vring.c -- split virtqueues on the device side: ring states,
 * notifiers and the datapath (virtio 1.x section 2.7; vhost-user.rst
 * "Ring states", "Memory access", SET_VRING_KICK/CALL/ERR).
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vc-be-priv.h"
#include "vc-msg-io.h"

#define F_EVENT_IDX (1ull << VIRTIO_RING_F_EVENT_IDX)

void
vc_be_close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

void
vc_be_vring_init(VcBeVring *vq, unsigned index)
{
    memset(vq, 0, sizeof(*vq));
    vq->index = index;
    vq->kick_fd = -1;
    vq->call_fd = -1;
    vq->err_fd = -1;
}

void
vc_be_vring_forget(VcBe *be, VcBeVring *vq)
{
    VcBeSeg *segs = vq->segs;
    VcBePending *pend = vq->pend;
    uint32_t segs_cap = vq->segs_cap, pend_cap = vq->pend_cap;

    vc_be_close_fd(&vq->kick_fd);
    vc_be_close_fd(&vq->call_fd);
    vc_be_close_fd(&vq->err_fd);
    /* Keep the scratch arrays: they only ever grow. */
    vc_be_vring_init(vq, vq->index);
    vq->segs = segs;
    vq->segs_cap = segs_cap;
    vq->pend = pend;
    vq->pend_cap = pend_cap;
    /* vhost-user.rst "Ring states": every ring begins disabled. */
    vq->enabled = (be->mutant == VC_MUT_START_ENABLED);
}

int
vc_be_vring_set_num(VcBe *be, VcBeVring *vq, uint32_t num)
{
    if (num == 0 || num > VC_BE_MAX_RING_SIZE || (num & (num - 1)) != 0) {
        return -EINVAL;
    }
    if (num > vq->segs_cap) {
        VcBeSeg *segs = realloc(vq->segs, num * sizeof(*segs));

        if (!segs) {
            return -ENOMEM;
        }
        vq->segs = segs;
        vq->segs_cap = num;
    }
    if (be->mutant == VC_MUT_REPLY_BEFORE_DRAIN && num > vq->pend_cap) {
        VcBePending *pend = malloc(num * sizeof(*pend));

        if (!pend) {
            return -ENOMEM;
        }
        for (uint32_t i = 0; i < vq->pend_count; i++) {
            pend[i] = vq->pend[(vq->pend_first + i) % vq->pend_cap];
        }
        free(vq->pend);
        vq->pend = pend;
        vq->pend_first = 0;
        vq->pend_cap = num;
    }
    vq->num = num;
    vq->broken = false;
    vc_be_vring_remap(be, vq);
    return 0;
}

static size_t
desc_bytes(uint32_t num)
{
    return 16ul * num;
}

/* The avail and used rings include the event-index word after the ring. */
static size_t
avail_bytes(uint32_t num)
{
    return 6ul + 2ul * num;
}

static size_t
used_bytes(uint32_t num)
{
    return 6ul + 8ul * num;
}

/* vhost-user.rst "Memory access": ring addresses are front-end user addresses. */
static void *
ring_to_hva(VcBe *be, uint64_t addr, uint64_t len)
{
    if (be->mutant == VC_MUT_RINGS_BY_GPA) {
        return vc_be_gpa_to_hva(be, addr, len);
    }
    return vc_be_uva_to_hva(be, addr, len);
}

/* ... while descriptor addresses are guest-physical. */
static void *
desc_to_hva(VcBe *be, uint64_t addr, uint64_t len)
{
    if (be->mutant == VC_MUT_DESCS_BY_UVA) {
        return vc_be_uva_to_hva(be, addr, len);
    }
    return vc_be_gpa_to_hva(be, addr, len);
}

int
vc_be_vring_check_addr(VcBe *be, const VcBeVring *vq, const struct vhost_vring_addr *a)
{
    uint32_t num = vq->num;

    /* We offer neither VHOST_F_LOG_ALL nor any other address flag. */
    if (a->flags != 0) {
        return -EINVAL;
    }
    /* virtio 1.x 2.7: descriptor table 16-, avail 2-, used ring 4-byte aligned. */
    if ((a->desc_user_addr & 15) || (a->avail_user_addr & 1) || (a->used_user_addr & 3)) {
        return -EINVAL;
    }
    /* Without a memory table yet the addresses are kept and resolved later. */
    if (be->nregions == 0) {
        return 0;
    }
    if (!ring_to_hva(be, a->desc_user_addr, num ? desc_bytes(num) : 1) ||
        !ring_to_hva(be, a->avail_user_addr, num ? avail_bytes(num) : 1) ||
        !ring_to_hva(be, a->used_user_addr, num ? used_bytes(num) : 1)) {
        return -EFAULT;
    }
    return 0;
}

/*
 * Recomputes the ring pointers from the stored user addresses; called
 * whenever the ring size, the addresses or the memory table change. A
 * started ring that becomes usable is processed at once, as if kicked:
 * its kick may have come while it could not run.
 */
void
vc_be_vring_remap(VcBe *be, VcBeVring *vq)
{
    bool was_ready = vq->ready;
    void *d = NULL, *a = NULL, *u = NULL;

    vq->ready = false;
    vq->vr.num = vq->num;
    vq->vr.desc = NULL;
    vq->vr.avail = NULL;
    vq->vr.used = NULL;
    if (vq->num == 0 || !vq->addr_set) {
        return;
    }
    d = ring_to_hva(be, vq->addr.desc_user_addr, desc_bytes(vq->num));
    a = ring_to_hva(be, vq->addr.avail_user_addr, avail_bytes(vq->num));
    u = ring_to_hva(be, vq->addr.used_user_addr, used_bytes(vq->num));
    if (!d || !a || !u) {
        return;
    }
    vq->vr.desc = d;
    vq->vr.avail = a;
    vq->vr.used = u;
    vq->ready = true;
    if (!was_ready && vc_be_vring_runnable(be, vq)) {
        vc_be_vring_process(be, vq);
    }
}

void
vc_be_vring_remap_all(VcBe *be)
{
    for (unsigned q = 0; q < be->dev.num_queues; q++) {
        vc_be_vring_remap(be, &be->vq[q]);
    }
}

/* vhost-user.rst "Ring states" / SET_VRING_BASE: used->idx is read at start. */
void
vc_be_vring_start(VcBe *be, VcBeVring *vq)
{
    vq->started = true;
    vq->used_sync = true;
}

/* GET_VRING_BASE: stop, and forget the kick fd (QEMU resends it at restart). */
void
vc_be_vring_stop(VcBe *be, VcBeVring *vq)
{
    vq->started = false;
    vq->kick_watched = false;
    vq->kick_nofd = false;
    vc_be_close_fd(&vq->kick_fd);
}

bool
vc_be_vring_runnable(const VcBe *be, const VcBeVring *vq)
{
    if (!vq->started || !vq->ready || vq->broken) {
        return false;
    }
    /* A started but disabled ring is left alone: for rng that is "no side effects". */
    if (!vq->enabled && be->mutant != VC_MUT_IGNORE_DISABLE) {
        return false;
    }
    if (be->mutant == VC_MUT_NO_KICK_POLLING && vq->kick_nofd) {
        return false;
    }
    if (be->mutant == VC_MUT_NEEDS_CALL_FD && vq->call_nofd) {
        return false;
    }
    return true;
}

/*
 * Writes one 8-byte unit to a call or err notifier. The value means
 * nothing. A pipe may be full: poll for room first so a blocking pipe
 * never stalls the daemon, and drop the signal when there is none (the
 * reader has unread signals anyway).
 */
static void
notifier_write(int fd, bool fifo)
{
    uint64_t one = 1;
    ssize_t n;

    if (fd < 0) {
        return;
    }
    if (fifo) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};

        if (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT)) {
            return;
        }
    }
    do {
        n = write(fd, &one, sizeof(one));
    } while (n < 0 && errno == EINTR);
}

static void
ring_error(VcBe *be, VcBeVring *vq, const char *why)
{
    vc_be_note(be, "ring %u: %s; ring stopped until it is set up again", vq->index, why);
    vq->broken = true;
    if (be->mutant != VC_MUT_NO_ERR_SIGNAL) {
        notifier_write(vq->err_fd, vq->err_fifo);
    }
}

static uint16_t
load_avail_idx(const VcBeVring *vq)
{
    /* Acquire: the ring entries and descriptors behind the index are read after it. */
    return le16toh(__atomic_load_n(&vq->vr.avail->idx, __ATOMIC_ACQUIRE));
}

/*
 * virtio 1.x 2.7.7 (used buffer notification suppression). The caller has
 * published used->idx; the full fence orders that store before the loads
 * of avail->flags / used_event, otherwise a driver that just re-enabled
 * interrupts could be missed.
 */
static void
signal_used(VcBe *be, VcBeVring *vq, uint16_t old_used, uint16_t new_used)
{
    bool need;

    if (vq->call_fd < 0 || be->mutant == VC_MUT_NO_CALL) {
        return;
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (be->features & F_EVENT_IDX) {
        uint16_t used_event =
            le16toh(__atomic_load_n(&vring_used_event(&vq->vr), __ATOMIC_RELAXED));

        need = be->mutant == VC_MUT_IGNORE_USED_EVENT ||
               vring_need_event(used_event, new_used, old_used);
    } else {
        uint16_t flags = le16toh(__atomic_load_n(&vq->vr.avail->flags, __ATOMIC_RELAXED));

        need = be->mutant == VC_MUT_IGNORE_NO_INTERRUPT ||
               !(flags & VRING_AVAIL_F_NO_INTERRUPT);
    }
    if (need) {
        notifier_write(vq->call_fd, vq->call_fifo);
    }
}

static void
publish_used(VcBe *be, VcBeVring *vq, uint16_t old_used)
{
    if (vq->used_idx == old_used) {
        return;
    }
    /* Release: the used elements are visible before the index that covers them. */
    __atomic_store_n(&vq->vr.used->idx, htole16(vq->used_idx), __ATOMIC_RELEASE);
    signal_used(be, vq, old_used, vq->used_idx);
}

static void
put_used(VcBeVring *vq, uint32_t id, uint32_t len)
{
    struct vring_used_elem *e = &vq->vr.used->ring[vq->used_idx & (vq->num - 1)];

    e->id = htole32(id);
    e->len = htole32(len);
    vq->used_idx++;
}

/*
 * Walks the chain at @head into vq->segs (virtio 1.x 2.7.5, 2.7.5.3). Every
 * bound the driver could break is checked: indices, chain length (a chain
 * may not be longer than the ring, which also catches loops), indirect
 * table length and nesting, and that each buffer lies inside guest memory.
 *
 * Returns: NULL, or why the ring is broken.
 */
static const char *
walk_chain(VcBe *be, VcBeVring *vq, uint16_t head, unsigned *nsegs)
{
    const struct vring_desc *table = vq->vr.desc;
    uint32_t table_n = vq->num;
    uint32_t i = head, steps = 0, n = 0;
    bool indirect = false;

    if (head >= vq->num) {
        return "avail ring names a head beyond the ring";
    }
    for (;;) {
        struct vring_desc d;
        uint16_t flags;
        uint32_t len;
        uint64_t addr;

        if (++steps > table_n) {
            return "descriptor chain loops or is longer than its table";
        }
        /* One copy: the driver may rewrite the descriptor meanwhile. */
        memcpy(&d, (const void *)&table[i], sizeof(d));
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        flags = le16toh(d.flags);
        len = le32toh(d.len);
        addr = le64toh(d.addr);

        if ((flags & VRING_DESC_F_INDIRECT) && be->mutant != VC_MUT_INDIRECT_AS_DIRECT) {
            if (indirect) {
                return "indirect descriptor inside an indirect table";
            }
            if (len == 0 || len % sizeof(struct vring_desc) != 0) {
                return "indirect table length is zero or not a multiple of 16";
            }
            table = desc_to_hva(be, addr, len);
            if (!table) {
                return "indirect table outside guest memory";
            }
            table_n = len / sizeof(struct vring_desc);
            indirect = true;
            i = 0;
            steps = 0;
            continue;
        }
        if (n >= vq->num) {
            return "descriptor chain longer than the ring";
        }
        VcBeSeg *s = &vq->segs[n++];
        s->gpa = addr;
        s->len = len;
        s->flags = flags;
        s->index = (uint16_t)i;
        if (flags & VRING_DESC_F_INDIRECT) {
            /* Mutant indirect-as-direct: the table is taken for a writable buffer. */
            s->flags |= VRING_DESC_F_WRITE;
        }
        s->hva = NULL;
        if (len) {
            s->hva = desc_to_hva(be, addr, len);
            if (!s->hva) {
                return "descriptor address outside guest memory";
            }
        }
        if (!(flags & VRING_DESC_F_NEXT)) {
            break;
        }
        i = le16toh(d.next);
        if (i >= table_n) {
            return "descriptor next index out of range";
        }
    }
    *nsegs = n;
    return NULL;
}

static bool
has_avail(const VcBe *be, const VcBeVring *vq, uint16_t avail_idx)
{
    if (be->mutant == VC_MUT_NO_WRAP) {
        /* Mutant: no modulo-65536 arithmetic. */
        return vq->last_avail_idx < avail_idx;
    }
    return vq->last_avail_idx != avail_idx;
}

static void
complete_chain(VcBe *be, VcBeVring *vq, const VcBeChain *c, uint32_t len)
{
    if (be->mutant == VC_MUT_USED_PER_DESCRIPTOR) {
        for (unsigned k = 0; k < c->nsegs; k++) {
            put_used(vq, c->segs[k].index,
                     (c->segs[k].flags & VRING_DESC_F_WRITE) ? c->segs[k].len : 0);
        }
        return;
    }
    if (be->mutant == VC_MUT_REPLY_BEFORE_DRAIN) {
        VcBePending *p = &vq->pend[(vq->pend_first + vq->pend_count) % vq->pend_cap];

        p->head = c->head;
        p->len = len;
        p->due_ms = vc_now_ms() + VC_BE_LATE_COMPLETION_MS;
        vq->pend_count++;
        return;
    }
    put_used(vq, c->head, len);
}

/*
 * Drains the avail ring of a started, enabled ring: every chain is serviced
 * and gets one used element, then used->idx is published once and the
 * driver is signalled once for the batch.
 */
void
vc_be_vring_process(VcBe *be, VcBeVring *vq)
{
    struct vring *vr = &vq->vr;
    bool event_idx = (be->features & F_EVENT_IDX) != 0;
    const char *err = NULL;
    unsigned done = 0;
    uint16_t old_used;

    if (!vc_be_vring_runnable(be, vq)) {
        return;
    }
    if (vq->used_sync) {
        vq->used_idx = le16toh(__atomic_load_n(&vr->used->idx, __ATOMIC_RELAXED));
        vq->used_sync = false;
    }
    old_used = vq->used_idx;
    for (;;) {
        uint16_t avail_idx = load_avail_idx(vq);
        unsigned round = 0;

        if ((uint16_t)(avail_idx - vq->last_avail_idx) > vq->num) {
            err = "driver published more chains than the ring holds";
            break;
        }
        while (has_avail(be, vq, avail_idx)) {
            unsigned nsegs = 0;
            uint16_t head;
            uint32_t len;

            if (be->mutant == VC_MUT_ONE_PER_KICK && done > 0) {
                goto out;
            }
            if (be->mutant == VC_MUT_REPLY_BEFORE_DRAIN && vq->pend_count >= vq->pend_cap) {
                goto out;
            }
            head = le16toh(__atomic_load_n(&vr->avail->ring[vq->last_avail_idx & (vq->num - 1)],
                                           __ATOMIC_RELAXED));
            err = walk_chain(be, vq, head, &nsegs);
            if (err) {
                goto out;
            }
            VcBeChain c = {.queue = vq->index, .head = head, .nsegs = nsegs, .segs = vq->segs};
            len = be->null_mode ? 0 : be->dev.handle_chain(be, &c, be->dev.opaque);
            complete_chain(be, vq, &c, len);
            vq->last_avail_idx++;
            done++;
            round++;
        }
        if (!event_idx || round == 0) {
            break;
        }
        /*
         * EVENT_IDX: tell the driver which index we wait for, then look
         * again, so that a chain published before it saw avail_event is
         * not left without a kick (virtio 1.x 2.7.10).
         */
        __atomic_store_n(&vring_avail_event(vr), htole16(vq->last_avail_idx), __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    }
out:
    /* Keep avail_event at the next index we want; a polled ring rarely changes it. */
    if (event_idx && le16toh(__atomic_load_n(&vring_avail_event(vr), __ATOMIC_RELAXED)) !=
                         vq->last_avail_idx) {
        __atomic_store_n(&vring_avail_event(vr), htole16(vq->last_avail_idx), __ATOMIC_RELEASE);
    }
    publish_used(be, vq, old_used);
    if (err) {
        ring_error(be, vq, err);
    }
}

/* Mutant reply-before-drain: completes the chains whose time has come. */
void
vc_be_vring_complete_due(VcBe *be, VcBeVring *vq, bool all)
{
    int64_t now = vc_now_ms();
    uint16_t old_used;

    if (vq->pend_count == 0) {
        return;
    }
    if (!vq->ready) {
        vq->pend_count = 0;
        return;
    }
    if (vq->used_sync) {
        vq->used_idx = le16toh(__atomic_load_n(&vq->vr.used->idx, __ATOMIC_RELAXED));
        vq->used_sync = false;
    }
    old_used = vq->used_idx;
    while (vq->pend_count > 0) {
        VcBePending *p = &vq->pend[vq->pend_first];

        if (!all && p->due_ms > now) {
            break;
        }
        put_used(vq, p->head, p->len);
        vq->pend_first = (vq->pend_first + 1) % vq->pend_cap;
        vq->pend_count--;
    }
    publish_used(be, vq, old_used);
}

int64_t
vc_be_vring_next_due(const VcBeVring *vq)
{
    return vq->pend_count ? vq->pend[vq->pend_first].due_ms : -1;
}

/*
 * The kick fd is readable. Read one 8-byte unit; a pipe may hold several
 * kicks, so drain what is there (bounded). The value means nothing
 * (vhost-user.rst "Platform support"), it is only looked at by the
 * kick-value-one mutant.
 */
void
vc_be_vring_kick(VcBe *be, VcBeVring *vq)
{
    bool value_one = false;
    uint64_t v = 0;
    ssize_t n;

    do {
        n = read(vq->kick_fd, &v, sizeof(v));
    } while (n < 0 && errno == EINTR);
    if (n == 0 || (n < 0 && errno != EAGAIN)) {
        /* The writer is gone (pipe EOF) or the fd broke: stop polling it. */
        vq->kick_watched = false;
        return;
    }
    if (n < 0) {
        return;
    }
    value_one = (n == sizeof(v) && v == 1);
    for (unsigned k = 0; k < 1024; k++) {
        struct pollfd p = {.fd = vq->kick_fd, .events = POLLIN};

        if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN)) {
            break;
        }
        n = read(vq->kick_fd, &v, sizeof(v));
        if (n <= 0) {
            break;
        }
        value_one |= (n == sizeof(v) && v == 1);
    }
    if (be->mutant == VC_MUT_KICK_VALUE_ONE && !value_one) {
        return;
    }
    /* vhost-user.rst "Ring states": the first kick starts the ring. */
    if (!vq->started) {
        vc_be_vring_start(be, vq);
    }
    vc_be_vring_process(be, vq);
    if (be->mutant == VC_MUT_STALL_AFTER_FIRST_KICK) {
        vq->kick_watched = false;
    }
}
