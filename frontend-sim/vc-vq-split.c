/*
 * vc-vq-split.c -- split virtqueue, driver side (virtio 1.x 2.7).
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "vc-error.h"
#include "vc-vq.h"

/* Ring fields are little-endian (virtio 1.x); these compile to plain moves on x86. */
static inline uint16_t
rd16(const volatile uint16_t *p)
{
    return le16toh(*p);
}

static inline void
wr16(volatile uint16_t *p, uint16_t v)
{
    *p = htole16(v);
}

static inline uint16_t
used_idx_acquire(const VcVq *vq)
{
    /* Pairs with the device's store of used->idx after writing the used element. */
    return le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE));
}

static inline volatile uint16_t *
used_event_ptr(const VcVq *vq)
{
    return (volatile uint16_t *)&vq->avail->ring[vq->num];
}

static inline volatile uint16_t *
avail_event_ptr(const VcVq *vq)
{
    return (volatile uint16_t *)&vq->used->ring[vq->num];
}

static inline void
fill_desc(struct vring_desc *d, uint64_t gpa, uint32_t len, uint16_t flags, uint16_t next)
{
    d->addr = htole64(gpa);
    d->len = htole32(len);
    d->flags = htole16(flags);
    d->next = htole16(next);
}

static int
split_add(VcVq *vq, const VcSg *out, unsigned n_out, const VcSg *in, unsigned n_in, void *token,
          unsigned flags)
{
    unsigned total = n_out + n_in;
    uint16_t head = vq->free_head;
    uint32_t wlen = 0, rlen = 0;
    VcVqHead *h;

    if (total == 0 || token == NULL) {
        return -EINVAL;
    }
    if (flags & VC_ADD_INDIRECT) {
        struct vring_desc *t;
        if (!vq->indirect || total > vq->indirect_max) {
            return -EINVAL;
        }
        if (vq->num_free < 1) {
            return -ENOSPC;
        }
        t = vq->indirect + (size_t)head * vq->indirect_max;
        for (unsigned i = 0; i < total; i++) {
            const VcSg *sg = i < n_out ? &out[i] : &in[i - n_out];
            uint16_t f = (i < n_out ? 0 : VRING_DESC_F_WRITE) | (i + 1 < total ? VRING_DESC_F_NEXT : 0);
            fill_desc(&t[i], sg->gpa + vq->dma_offset, sg->len, f, (uint16_t)(i + 1));
            if (i < n_out) {
                rlen += sg->len;
            } else {
                wlen += sg->len;
            }
        }
        fill_desc(&vq->desc[head],
                  vq->dma_offset + vq->indirect_gpa +
                  (uint64_t)head * vq->indirect_max * sizeof(struct vring_desc),
                  total * (uint32_t)sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0);
        vq->free_head = vq->next[head];
        vq->num_free--;
        h = &vq->heads[head];
        h->ndesc = 1;
        h->last = head;
    } else {
        uint16_t i = head, prev = head;
        if (total > vq->num) {
            /* It would never fit: -ENOSPC would have a caller wait for room forever. */
            return -EINVAL;
        }
        if (total > vq->num_free) {
            return -ENOSPC;
        }
        for (unsigned k = 0; k < total; k++) {
            const VcSg *sg = k < n_out ? &out[k] : &in[k - n_out];
            uint16_t f = (k < n_out ? 0 : VRING_DESC_F_WRITE) |
                         (k + 1 < total ? VRING_DESC_F_NEXT : 0);
            fill_desc(&vq->desc[i], sg->gpa + vq->dma_offset, sg->len, f, vq->next[i]);
            if (k < n_out) {
                rlen += sg->len;
            } else {
                wlen += sg->len;
            }
            prev = i;
            i = vq->next[i];
        }
        vq->free_head = i;
        vq->num_free -= (uint16_t)total;
        h = &vq->heads[head];
        h->ndesc = (uint16_t)total;
        h->last = prev;
    }
    h->token = token;
    h->wlen = wlen;
    h->rlen = rlen;
    wr16(&vq->avail->ring[vq->avail_idx & (vq->num - 1)], head);
    vq->avail_idx++;
    vq->in_flight++;
    vq->n_added++;
    if (G_UNLIKELY(vq->tap)) {
        vq->tap(vq->tap_opaque, vq, VC_VQ_EV_AVAIL, head, rlen + wlen);
    }
    return head;
}

static void
split_publish(VcVq *vq)
{
    /* Descriptors and ring entries must be visible before the index that exposes them. */
    __atomic_store_n(&vq->avail->idx, htole16(vq->avail_idx), __ATOMIC_RELEASE);
}

static bool
split_kick_needed(VcVq *vq)
{
    uint16_t old = vq->kicked_idx, new_idx = vq->avail_idx;
    bool need;

    /* The avail index store must be ordered before reading the device's suppression state. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (vq->flags & VC_VQ_EVENT_IDX) {
        need = vring_need_event(rd16(avail_event_ptr(vq)), new_idx, old);
    } else {
        need = !(rd16(&vq->used->flags) & VRING_USED_F_NO_NOTIFY);
    }
    vq->kicked_idx = new_idx;
    return need;
}

static bool
split_more_used(VcVq *vq)
{
    return used_idx_acquire(vq) != vq->last_used;
}

static int
split_pop_used(VcVq *vq, void **token, uint32_t *len, uint32_t *head_out)
{
    uint16_t slot;
    uint32_t id;
    VcVqHead *h;

    if (used_idx_acquire(vq) == vq->last_used) {
        return 0;
    }
    slot = vq->last_used & (vq->num - 1);
    id = le32toh(vq->used->ring[slot].id);
    *len = le32toh(vq->used->ring[slot].len);
    vq->last_used++;
    if (head_out) {
        *head_out = id;
    }
    if (id >= vq->num || vq->heads[id].token == NULL) {
        return -EPROTO;
    }
    h = &vq->heads[id];
    *token = h->token;
    h->token = NULL;
    vq->next[h->last] = vq->free_head;
    vq->free_head = (uint16_t)id;
    vq->num_free += h->ndesc;
    vq->in_flight--;
    vq->n_used++;
    if (G_UNLIKELY(vq->tap)) {
        vq->tap(vq->tap_opaque, vq, VC_VQ_EV_USED, id, *len);
    }
    return 1;
}

static unsigned
split_add_bufs(VcVq *vq, VcSg *const *bufs, unsigned n, bool writable)
{
    struct vring_desc *desc = vq->desc;
    VcVqHead *heads = vq->heads;
    const uint16_t *next = vq->next;
    volatile uint16_t *ring = vq->avail->ring;
    uint16_t mask = vq->num - 1, head = vq->free_head, avail = vq->avail_idx;
    uint16_t flags = htole16(writable ? VRING_DESC_F_WRITE : 0);
    uint64_t dma = vq->dma_offset;

    if (G_UNLIKELY(vq->tap)) {
        unsigned k;
        for (k = 0; k < n && split_add(vq, writable ? NULL : bufs[k], !writable,
                                       writable ? bufs[k] : NULL, writable, bufs[k], 0) >= 0; k++) {
        }
        return k;
    }
    n = MIN(n, vq->num_free);
    for (unsigned k = 0; k < n; k++) {
        const VcSg *sg = bufs[k];
        VcVqHead *h = &heads[head];

        /* One descriptor, no NEXT: its next field means nothing to the device. */
        desc[head].addr = htole64(sg->gpa + dma);
        desc[head].len = htole32(sg->len);
        desc[head].flags = flags;
        h->token = bufs[k];
        h->wlen = writable ? sg->len : 0;
        h->rlen = writable ? 0 : sg->len;
        h->ndesc = 1;
        h->last = head;
        ring[avail++ & mask] = htole16(head);
        head = next[head];
    }
    vq->free_head = head;
    vq->avail_idx = avail;
    vq->num_free -= (uint16_t)n;
    vq->in_flight += (uint16_t)n;
    vq->n_added += n;
    return n;
}

static int
split_pop_many(VcVq *vq, void **tokens, uint32_t *lens, unsigned max)
{
    const struct vring_used_elem *ring = vq->used->ring;
    VcVqHead *heads = vq->heads;
    uint16_t *next = vq->next;
    uint16_t mask = vq->num - 1, last = vq->last_used, free_head = vq->free_head, freed = 0;
    uint16_t used;
    unsigned n = 0;

    if (G_UNLIKELY(vq->tap)) {
        /* One at a time, so that the tap sees each and a bad id is reported as it comes. */
        return max ? split_pop_used(vq, &tokens[0], &lens[0], NULL) : 0;
    }
    used = used_idx_acquire(vq);
    while (last != used && n < max) {
        const struct vring_used_elem *e = &ring[last & mask];
        uint32_t id = le32toh(e->id);
        VcVqHead *h;

        if (G_UNLIKELY(id >= vq->num || heads[id].token == NULL)) {
            if (n == 0) {
                last++;     /* consumed, as split_pop_used() does */
            }
            break;
        }
        h = &heads[id];
        tokens[n] = h->token;
        lens[n] = le32toh(e->len);
        h->token = NULL;
        next[h->last] = free_head;
        free_head = (uint16_t)id;
        freed += h->ndesc;
        last++;
        n++;
    }
    vq->free_head = free_head;
    vq->num_free += freed;
    vq->in_flight -= (uint16_t)n;
    vq->n_used += n;
    if (G_UNLIKELY(n == 0 && last != vq->last_used)) {
        vq->last_used = last;
        return -EPROTO;
    }
    vq->last_used = last;
    return (int)n;
}

static void
split_enable_calls(VcVq *vq, bool on)
{
    if (vq->flags & VC_VQ_EVENT_IDX) {
        /* Ask for a call when the device moves past the entries reaped so far. */
        wr16(used_event_ptr(vq), on ? vq->last_used : (uint16_t)(vq->last_used - 1));
    } else {
        wr16(&vq->avail->flags, on ? 0 : VRING_AVAIL_F_NO_INTERRUPT);
    }
    /* The request must be visible before the caller re-reads used->idx. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void split_reset(VcVq *vq, uint16_t idx);

VcVq *
vc_vq_new_split(VcGmem *gm, unsigned index, uint16_t num, unsigned flags, unsigned indirect_max,
                GError **error)
{
    g_autoptr(VcVq) vq = NULL;
    size_t avail_sz = 4 + 2 * (size_t)num + 2, used_sz = 4 + 8 * (size_t)num + 2;

    if (num == 0 || (num & (num - 1)) != 0 || num > 32768) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_USAGE, "ring size %u is not a power of two <= 32768",
                    num);
        return NULL;
    }
    vq = g_new0(VcVq, 1);
    vq->ops = &vc_vq_split_ops;
    vq->gm = gm;
    vq->index = index;
    vq->num = num;
    vq->flags = flags;
    vq->kick_fd = vq->call_fd = vq->err_fd = -1;
    vq->desc = vc_gmem_alloc(gm, 16 * (size_t)num, 4096, &vq->desc_gpa);
    vq->avail = vc_gmem_alloc(gm, avail_sz, 4096, &vq->avail_gpa);
    vq->used = vc_gmem_alloc(gm, used_sz, 4096, &vq->used_gpa);
    if (!vq->desc || !vq->avail || !vq->used) {
        g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE,
                    "guest memory too small for a ring of %u entries", num);
        return NULL;
    }
    if (flags & VC_VQ_INDIRECT) {
        vq->indirect_max = indirect_max ? indirect_max : 8;
        vq->indirect = vc_gmem_alloc(gm, (size_t)num * vq->indirect_max * 16, 4096,
                                     &vq->indirect_gpa);
        if (!vq->indirect) {
            g_set_error(error, VC_SIM_ERROR, VC_ERROR_RESOURCE,
                        "guest memory too small for indirect tables");
            return NULL;
        }
    }
    vq->next = g_new0(uint16_t, num);
    vq->heads = g_new0(VcVqHead, num);
    split_reset(vq, 0);
    return g_steal_pointer(&vq);
}

static void
split_reset(VcVq *vq, uint16_t idx)
{
    memset(vq->desc, 0, 16 * (size_t)vq->num);
    memset(vq->avail, 0, 4 + 2 * (size_t)vq->num + 2);
    memset(vq->used, 0, 4 + 8 * (size_t)vq->num + 2);
    if (vq->indirect) {
        memset(vq->indirect, 0, (size_t)vq->num * vq->indirect_max * 16);
    }
    for (uint16_t i = 0; i < vq->num; i++) {
        vq->next[i] = (uint16_t)(i + 1);
        vq->heads[i].token = NULL;
    }
    vq->free_head = 0;
    vq->num_free = vq->num;
    vq->in_flight = 0;
    vq->avail_idx = vq->kicked_idx = vq->last_used = idx;
    wr16(&vq->avail->idx, idx);
    wr16(&vq->used->idx, idx);
    /* Calls on by default: used_event = idx asks for one at the first completion. */
    wr16(used_event_ptr(vq), idx);
}

static int
split_reset_base(VcVq *vq, uint32_t base)
{
    /* vhost-user.rst SET_VRING_BASE: a split ring's state is one 16-bit avail index. */
    split_reset(vq, (uint16_t)base);
    return 0;
}

static uint32_t
split_base(const VcVq *vq)
{
    return vq->avail_idx;
}

void
vc_vq_reset(VcVq *vq, uint16_t idx)
{
    vq->ops->reset(vq, idx);
}

int
vc_vq_reset_base(VcVq *vq, uint32_t base)
{
    return vq->ops->reset_base(vq, base);
}

uint32_t
vc_vq_base(const VcVq *vq)
{
    return vq->ops->base(vq);
}

void
vc_vq_free(VcVq *vq)
{
    if (!vq) {
        return;
    }
    g_free(vq->next);
    g_free(vq->heads);
    g_free(vq);
}

void
vc_vq_set_fds(VcVq *vq, int kick_fd, int call_fd, int err_fd)
{
    vq->kick_fd = kick_fd;
    vq->call_fd = call_fd;
    vq->err_fd = err_fd;
}

int
vc_vq_kick_value(VcVq *vq, uint64_t value)
{
    ssize_t n;

    if (vq->kick_fd < 0) {
        return 0;
    }
    do {
        n = write(vq->kick_fd, &value, sizeof(value));
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno != EAGAIN) {
        return -errno;
    }
    vq->n_kicks++;
    if (G_UNLIKELY(vq->tap)) {
        vq->tap(vq->tap_opaque, vq, VC_VQ_EV_KICK, vq->avail_idx, 0);
    }
    return 0;
}

int
vc_vq_kick(VcVq *vq)
{
    return vc_vq_kick_value(vq, 1);
}

int
vc_vq_notify(VcVq *vq)
{
    vc_vq_publish(vq);
    if (!vc_vq_kick_needed(vq)) {
        vq->n_kicks_skipped++;
        return 0;
    }
    int r = vc_vq_kick(vq);
    return r < 0 ? r : 1;
}

int
vc_vq_take_call(VcVq *vq)
{
    uint64_t v;
    ssize_t n;

    if (vq->call_fd < 0) {
        return 0;
    }
    do {
        n = read(vq->call_fd, &v, sizeof(v));
    } while (n < 0 && errno == EINTR);
    if (n == sizeof(v)) {
        vq->n_calls++;
        if (G_UNLIKELY(vq->tap)) {
            vq->tap(vq->tap_opaque, vq, VC_VQ_EV_CALL, 0, 0);
        }
        return 1;
    }
    return 0;
}

int
vc_vq_wait_call(VcVq *vq, int timeout_ms)
{
    struct pollfd p;
    int r;

    if (vq->call_fd < 0) {
        return -ENOTCONN;
    }
    p.fd = vq->call_fd;
    p.events = POLLIN;
    do {
        r = poll(&p, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        return -errno;
    }
    if (r == 0) {
        return 0;
    }
    return vc_vq_take_call(vq);
}

static uint16_t
split_used_idx(const VcVq *vq)
{
    return used_idx_acquire(vq);
}

static uint16_t
split_avail_event(const VcVq *vq)
{
    return rd16(avail_event_ptr(vq));
}

static void
split_set_used_event(VcVq *vq, uint16_t v)
{
    wr16(used_event_ptr(vq), v);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void
split_used_elem(const VcVq *vq, uint16_t slot, uint32_t *id, uint32_t *len)
{
    const struct vring_used_elem *e = &vq->used->ring[slot & (vq->num - 1)];

    *id = le32toh(e->id);
    *len = le32toh(e->len);
}

uint16_t
vc_vq_used_idx(const VcVq *vq)
{
    return vq->ops->used_idx(vq);
}

uint16_t
vc_vq_avail_event(const VcVq *vq)
{
    return vq->ops->avail_event(vq);
}

void
vc_vq_set_used_event(VcVq *vq, uint16_t v)
{
    vq->ops->set_used_event(vq, v);
}

void
vc_vq_used_elem(const VcVq *vq, uint16_t slot, uint32_t *id, uint32_t *len)
{
    vq->ops->used_elem(vq, slot, id, len);
}

static unsigned
split_ranges(const VcVq *vq, VcRange *ranges)
{
    unsigned n = 0;

    ranges[n++] = (VcRange){vq->desc_gpa, 16 * (uint64_t)vq->num};
    ranges[n++] = (VcRange){vq->avail_gpa, 4 + 2 * (uint64_t)vq->num + 2};
    ranges[n++] = (VcRange){vq->used_gpa, 4 + 8 * (uint64_t)vq->num + 2};
    if (vq->indirect) {
        ranges[n++] = (VcRange){vq->indirect_gpa, (uint64_t)vq->num * vq->indirect_max * 16};
    }
    return n;
}

unsigned
vc_vq_ranges(const VcVq *vq, VcRange *ranges)
{
    return vq->ops->ranges(vq, ranges);
}

void
vc_vq_addr(const VcVq *vq, struct vhost_vring_addr *addr)
{
    memset(addr, 0, sizeof(*addr));
    addr->index = vq->index;
    addr->desc_user_addr = vc_gmem_to_uva(vq->gm, vq->desc_gpa);
    addr->used_user_addr = vc_gmem_to_uva(vq->gm, vq->used_gpa);
    addr->avail_user_addr = vc_gmem_to_uva(vq->gm, vq->avail_gpa);
    addr->log_guest_addr = vq->used_gpa;
}

void
vc_vq_set_tap(VcVq *vq, VcVqTap tap, void *opaque)
{
    vq->tap = tap;
    vq->tap_opaque = opaque;
}

/* --- Reading a chain back (vc-vq.h), both layouts; off the datapath --------------------------- */

/* Adds the writable entries of the indirect table at @addr (@len bytes). */
static unsigned
table_writable(const VcVq *vq, uint64_t addr, uint32_t len, VcRange *out, unsigned n,
               unsigned max)
{
    uint64_t l = len;
    const uint8_t *t = vc_gmem_to_hva(vq->gm, addr - vq->dma_offset, &l);

    /* Both layouts' descriptors are 16 bytes with addr, len first and a WRITE flag. */
    for (uint32_t i = 0; t && l >= len && i < len / 16 && n < max; i++) {
        const struct vring_desc *d = (const struct vring_desc *)(t + 16 * (size_t)i);
        uint16_t f = vq->packed ? le16toh(((const struct vring_packed_desc *)d)->flags)
                                : le16toh(d->flags);
        if (f & VRING_DESC_F_WRITE) {
            out[n++] = (VcRange){le64toh(d->addr) - vq->dma_offset, le32toh(d->len)};
        }
    }
    return n;
}

unsigned
vc_vq_chain_writable(const VcVq *vq, uint32_t head, VcRange *out, unsigned max)
{
    unsigned n = 0;

    if (head >= vq->num) {
        return 0;
    }
    if (vq->packed) {
        const VcVqHead *h = &vq->heads[head];
        unsigned pos = (h->last + vq->num + 1u - h->ndesc) % vq->num;

        for (unsigned k = 0; k < h->ndesc && n < max; k++, pos = (pos + 1) % vq->num) {
            const struct vring_packed_desc *d = &vq->pdesc[pos];
            uint16_t f = le16toh(d->flags);
            if (f & VRING_DESC_F_INDIRECT) {
                n = table_writable(vq, le64toh(d->addr), le32toh(d->len), out, n, max);
            } else if (f & VRING_DESC_F_WRITE) {
                out[n++] = (VcRange){le64toh(d->addr) - vq->dma_offset, le32toh(d->len)};
            }
        }
        return n;
    }
    /* Split: follow NEXT from the head, at most num links (a loop ends there). */
    for (unsigned k = 0, i = head; k < vq->num && n < max; k++) {
        const struct vring_desc *d = &vq->desc[i];
        uint16_t f = le16toh(d->flags);
        if (f & VRING_DESC_F_INDIRECT) {
            return table_writable(vq, le64toh(d->addr), le32toh(d->len), out, n, max);
        }
        if (f & VRING_DESC_F_WRITE) {
            out[n++] = (VcRange){le64toh(d->addr) - vq->dma_offset, le32toh(d->len)};
        }
        if (!(f & VRING_DESC_F_NEXT)) {
            break;
        }
        i = le16toh(d->next) % vq->num;
    }
    return n;
}

/* --- Hostile input (vc-vq.h): not part of the ops, never on the datapath -------------------- */

void
vc_vq_raw_desc(struct vring_desc *table, const VcRawDesc *d)
{
    fill_desc(table, d->addr, d->len, d->flags, (uint16_t)d->next);
}

int
vc_vq_add_raw(VcVq *vq, const VcRawDesc *d, unsigned n, void *token)
{
    g_autofree uint16_t *slot = NULL;
    uint16_t head = vq->free_head, i = head;
    uint32_t wlen = 0, rlen = 0;
    VcVqHead *h;

    if (vq->packed) {
        return -EOPNOTSUPP;
    }
    if (n == 0 || token == NULL) {
        return -EINVAL;
    }
    for (unsigned k = 0; k < n; k++) {
        if ((d[k].flags & VRING_DESC_F_NEXT) && !(d[k].next & VC_RAW_NEXT_AS_IS) &&
            d[k].next >= n) {
            return -EINVAL;
        }
    }
    if (n > vq->num_free) {
        return -ENOSPC;
    }
    slot = g_new(uint16_t, n);
    /* Slots in free-list order: the private links stay a chain that a completion gives back. */
    for (unsigned k = 0; k < n; k++) {
        slot[k] = i;
        i = vq->next[i];
    }
    for (unsigned k = 0; k < n; k++) {
        uint16_t next = (d[k].next & VC_RAW_NEXT_AS_IS) ? (uint16_t)d[k].next
                                                        : slot[d[k].next < n ? d[k].next : 0];
        fill_desc(&vq->desc[slot[k]], d[k].addr, d[k].len, d[k].flags,
                  (d[k].flags & VRING_DESC_F_NEXT) ? next : 0);
        if (d[k].flags & VRING_DESC_F_WRITE) {
            wlen += d[k].len;
        } else {
            rlen += d[k].len;
        }
    }
    vq->free_head = i;
    vq->num_free -= (uint16_t)n;
    h = &vq->heads[head];
    h->token = token;
    h->wlen = wlen;
    h->rlen = rlen;
    h->ndesc = (uint16_t)n;
    h->last = slot[n - 1];
    wr16(&vq->avail->ring[vq->avail_idx & (vq->num - 1)], head);
    vq->avail_idx++;
    vq->in_flight++;
    vq->n_added++;
    if (G_UNLIKELY(vq->tap)) {
        vq->tap(vq->tap_opaque, vq, VC_VQ_EV_AVAIL, head, rlen + wlen);
    }
    return head;
}

int
vc_vq_set_used_idx(VcVq *vq, uint16_t idx)
{
    if (vq->packed) {
        return -EOPNOTSUPP;
    }
    /* Release: as a driver publishing it would; the device reads it with acquire. */
    __atomic_store_n(&vq->used->idx, htole16(idx), __ATOMIC_RELEASE);
    return 0;
}

const VcVqOps vc_vq_split_ops = {
    .add = split_add,
    .publish = split_publish,
    .kick_needed = split_kick_needed,
    .pop_used = split_pop_used,
    .more_used = split_more_used,
    .enable_calls = split_enable_calls,
    .add_bufs = split_add_bufs,
    .pop_many = split_pop_many,
    .reset = split_reset,
    .reset_base = split_reset_base,
    .base = split_base,
    .used_idx = split_used_idx,
    .avail_event = split_avail_event,
    .set_used_event = split_set_used_event,
    .used_elem = split_used_elem,
    .ranges = split_ranges,
};
