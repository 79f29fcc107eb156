/*
 * test-vq-packed.c -- the driver side of the packed virtqueue
 * (vc-vq-packed.c) against a tiny in-test device that reads available
 * descriptors and writes used descriptors straight into guest memory, as a
 * back-end daemon would, plus the SET/GET_VRING_BASE encoding of both
 * layouts.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_ring.h>

#include "vc-error.h"
#include "vc-vq.h"
#include "vc-test-util.h"

#define PAGE 4096ull
#define MEM_GPA 0x40000000ull
#define MEM_SIZE (1ull << 20)

#define F_AVAIL (1u << VRING_PACKED_DESC_F_AVAIL)   /* 0x0080 */
#define F_USED  (1u << VRING_PACKED_DESC_F_USED)    /* 0x8000 */
#define WRAP    0x8000u

/* A fake token for chain @i: only its identity matters. */
#define TOKEN(i) ((void *)(uintptr_t)(0x1000 + (i)))

/* Position and wrap counter after @c slots went through a fresh ring of @num (counters at 1). */
static uint16_t
enc_count(uint16_t num, uint64_t c)
{
    return (uint16_t)((c % num) | (((c / num) & 1) == 0 ? WRAP : 0));
}

static uint16_t
adv(uint16_t num, uint16_t v, unsigned n)
{
    unsigned pos = (v & 0x7fffu) + n;
    uint16_t wrap = v & WRAP;

    if (pos >= num) {
        pos -= num;
        wrap ^= WRAP;
    }
    return (uint16_t)(pos | wrap);
}

/* --- The device ------------------------------------------------------------------------ */

typedef struct Dev {
    VcGmem *gm;
    uint64_t desc_gpa, drv_gpa, dev_gpa;
    uint16_t num;
    uint16_t avail;   /* next slot to fetch, position | wrap << 15 */
    uint16_t used;    /* next slot to write a used descriptor to */
} Dev;

/* One chain as the device sees it, flattened through an indirect table. */
typedef struct Chain {
    uint16_t id;
    uint16_t head;      /* position | wrap of the first slot */
    bool indirect;
    unsigned nslots;    /* ring slots the chain takes */
    unsigned n;
    struct vring_packed_desc d[64];
} Chain;

static void *
dev_hva(const Dev *d, uint64_t gpa)
{
    void *p = vc_gmem_to_hva(d->gm, gpa, NULL);

    ck_assert_msg(p != NULL, "device: gpa 0x%" G_GINT64_MODIFIER "x is not guest memory", gpa);
    return p;
}

static struct vring_packed_desc *
dev_ring(const Dev *d)
{
    return dev_hva(d, d->desc_gpa);
}

static struct vring_packed_desc_event *
dev_area(const Dev *d)
{
    return dev_hva(d, d->dev_gpa);
}

static struct vring_packed_desc_event *
drv_area(const Dev *d)
{
    return dev_hva(d, d->drv_gpa);
}

/* As after SET_VRING_BASE: the device starts where vc_vq_base() says. */
static void
dev_init(Dev *d, const VcVq *vq)
{
    uint32_t base = vc_vq_base(vq);

    memset(d, 0, sizeof(*d));
    d->gm = vq->gm;
    d->desc_gpa = vq->desc_gpa;
    d->drv_gpa = vq->avail_gpa;
    d->dev_gpa = vq->used_gpa;
    d->num = vq->num;
    d->avail = (uint16_t)base;
    d->used = (uint16_t)(base >> 16);
}

static uint16_t
slot_flags(const Dev *d, unsigned pos)
{
    return le16toh(__atomic_load_n(&dev_ring(d)[pos].flags, __ATOMIC_ACQUIRE));
}

/* Takes the next available chain. Returns false when the next slot is not available. */
static bool
dev_pop(Dev *d, Chain *c)
{
    struct vring_packed_desc *ring = dev_ring(d);
    uint16_t at = d->avail;
    uint16_t f = slot_flags(d, at & 0x7fff);
    bool wrap = (at & WRAP) != 0;

    if (!!(f & F_AVAIL) != wrap || !!(f & F_USED) == wrap) {
        return false;
    }
    memset(c, 0, sizeof(*c));
    c->head = at;
    if (f & VRING_DESC_F_INDIRECT) {
        struct vring_packed_desc *t = dev_hva(d, le64toh(ring[at & 0x7fff].addr));
        uint32_t len = le32toh(ring[at & 0x7fff].len);

        ck_assert_uint_eq(f & VRING_DESC_F_NEXT, 0);
        ck_assert_uint_eq(len % sizeof(struct vring_packed_desc), 0);
        c->indirect = true;
        c->id = le16toh(ring[at & 0x7fff].id);
        c->n = len / sizeof(struct vring_packed_desc);
        ck_assert_uint_le(c->n, G_N_ELEMENTS(c->d));
        memcpy(c->d, t, len);
        c->nslots = 1;
        d->avail = adv(d->num, at, 1);
        return true;
    }
    for (;;) {
        const struct vring_packed_desc *s = &ring[at & 0x7fff];
        bool w = (at & WRAP) != 0;

        f = le16toh(s->flags);
        /* Every slot of a chain carries the avail bits of its own lap. */
        ck_assert_msg(!!(f & F_AVAIL) == w && !!(f & F_USED) != w,
                      "slot %u of a chain: flags 0x%04x, lap %d", at & 0x7fff, f, w);
        ck_assert_uint_eq(f & VRING_DESC_F_INDIRECT, 0);
        ck_assert_uint_lt(c->n, d->num);
        c->d[c->n++] = *s;
        at = adv(d->num, at, 1);
        if (!(f & VRING_DESC_F_NEXT)) {
            break;
        }
    }
    c->nslots = c->n;
    /* The spec reads the id from the last slot; the driver writes it in every slot. */
    c->id = le16toh(c->d[c->n - 1].id);
    for (unsigned i = 0; i < c->n; i++) {
        ck_assert_uint_eq(le16toh(c->d[i].id), c->id);
    }
    d->avail = at;
    return true;
}

/* Writes one used descriptor (id and len first, then the flags) and skips @nslots. */
static void
dev_push(Dev *d, uint16_t id, uint32_t len, unsigned nslots)
{
    struct vring_packed_desc *s = &dev_ring(d)[d->used & 0x7fff];
    uint16_t f = (d->used & WRAP) ? (F_AVAIL | F_USED) : 0;

    s->id = htole16(id);
    s->len = htole32(len);
    if (len) {
        f |= VRING_DESC_F_WRITE;
    }
    /* Pairs with the driver's acquire of the flags. */
    __atomic_store_n(&s->flags, htole16(f), __ATOMIC_RELEASE);
    d->used = adv(d->num, d->used, nslots);
}

static void
dev_set_event(Dev *d, uint16_t flags, uint16_t off_wrap)
{
    dev_area(d)->off_wrap = htole16(off_wrap);
    dev_area(d)->flags = htole16(flags);
}

/* --- Fixtures ----------------------------------------------------------------------------- */

typedef struct Fix {
    VcGmem *gm;
    VcVq *vq;
    Dev dev;
} Fix;

static void
fix_init(Fix *f, uint16_t num, unsigned flags, unsigned indirect_max)
{
    g_autoptr(GError) err = NULL;

    f->gm = vc_gmem_new();
    ck_assert_int_eq(vc_gmem_add_simple(f->gm, MEM_GPA, MEM_SIZE, false), 0);
    f->vq = vc_vq_new_packed(f->gm, 3, num, flags, indirect_max, &err);
    ck_assert_msg(f->vq != NULL, "%s", err ? err->message : "?");
    dev_init(&f->dev, f->vq);
}

static void
fix_fini(Fix *f)
{
    vc_vq_free(f->vq);
    vc_gmem_free(f->gm);
}

static void
reap_one(Fix *f, void *want_tok, uint32_t want_len)
{
    void *tok = NULL;
    uint32_t len = 0;

    ck_assert_int_eq(vc_vq_pop_used(f->vq, &tok, &len, NULL), 1);
    ck_assert_ptr_eq(tok, want_tok);
    ck_assert_uint_eq(len, want_len);
}

/* --- Construction ------------------------------------------------------------------------- */

START_TEST(new_rejects_bad_sizes)
{
    g_autoptr(VcGmem) gm = vc_gmem_new();
    static const uint16_t bad[] = {0, 32769, 40000, 65535};

    ck_assert_int_eq(vc_gmem_add_simple(gm, 0, 8 * PAGE, false), 0);
    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;
        ck_assert_ptr_null(vc_vq_new_packed(gm, 0, bad[i], 0, 0, &err));
        ck_assert(g_error_matches(err, VC_SIM_ERROR, VC_ERROR_USAGE));
    }
    /* 32768 is the largest legal ring; 512 KiB of descriptors do not fit in 32 KiB. */
    {
        g_autoptr(GError) err = NULL;
        ck_assert_ptr_null(vc_vq_new_packed(gm, 0, 32768, 0, 0, &err));
        ck_assert(g_error_matches(err, VC_SIM_ERROR, VC_ERROR_RESOURCE));
    }
    /* Sizes that are no power of two are fine. */
    {
        g_autoptr(GError) err = NULL;
        g_autoptr(VcVq) vq = vc_vq_new_packed(gm, 0, 3, 0, 0, &err);
        ck_assert_ptr_nonnull(vq);
        ck_assert(vq->packed);
        ck_assert_ptr_eq(vq->ops, &vc_vq_packed_ops);
        ck_assert_uint_eq(vq->num_free, 3);
    }
    {
        g_autoptr(GError) err = NULL;
        g_autoptr(VcVq) vq = vc_vq_new_packed(gm, 0, 1, 0, 0, &err);
        ck_assert_ptr_nonnull(vq);
        ck_assert_uint_eq(vq->num_free, 1);
    }
}
END_TEST

START_TEST(largest_ring)
{
    Fix f;

    fix_init(&f, 32768, 0, 0);
    ck_assert_uint_eq(f.vq->num_free, 32768);
    ck_assert_uint_eq(vc_vq_base(f.vq), 0x80008000u);
    /* The last position with both counters 0, then the same ring one slot further. */
    ck_assert_int_eq(vc_vq_reset_base(f.vq, 0x7fff7fffu), 0);
    ck_assert_uint_eq(vc_vq_base(f.vq), 0x7fff7fffu);
    dev_init(&f.dev, f.vq);
    {
        const VcSg sg[] = {{MEM_GPA + 0xf0000, 8}, {MEM_GPA + 0xf0100, 8}};
        Chain c;
        ck_assert_int_eq(vc_vq_add(f.vq, sg, 1, sg + 1, 1, TOKEN(0), 0), 0);
        vc_vq_publish(f.vq);
        ck_assert(dev_pop(&f.dev, &c));
        ck_assert_uint_eq(c.n, 2);
        ck_assert_uint_eq(le16toh(c.d[0].flags), VRING_DESC_F_NEXT | F_USED);
        ck_assert_uint_eq(le16toh(c.d[1].flags), VRING_DESC_F_WRITE | F_AVAIL);
        dev_push(&f.dev, c.id, 8, c.nslots);
        reap_one(&f, TOKEN(0), 8);
        ck_assert_uint_eq(vc_vq_base(f.vq), 0x80018001u);
    }
    fix_fini(&f);
}
END_TEST

START_TEST(layout_and_ranges)
{
    Fix f;
    VcRange r[4];
    struct vhost_vring_addr addr;

    fix_init(&f, 5, VC_VQ_INDIRECT, 4);
    ck_assert(f.vq->packed);
    ck_assert_uint_eq(f.vq->num, 5);
    ck_assert_uint_eq(f.vq->index, 3);
    ck_assert_int_eq(f.vq->kick_fd, -1);
    ck_assert_int_eq(f.vq->call_fd, -1);
    /* The split views are not there; the packed ones are, each part page aligned. */
    ck_assert_ptr_null(f.vq->desc);
    ck_assert_ptr_null(f.vq->avail);
    ck_assert_ptr_null(f.vq->used);
    ck_assert_ptr_null(f.vq->indirect);
    ck_assert_uint_eq(f.vq->desc_gpa, MEM_GPA);
    ck_assert_uint_eq(f.vq->avail_gpa % PAGE, 0);
    ck_assert_uint_eq(f.vq->used_gpa % PAGE, 0);
    ck_assert_uint_eq(f.vq->indirect_gpa % PAGE, 0);
    ck_assert_uint_ne(f.vq->avail_gpa, f.vq->used_gpa);
    ck_assert_ptr_eq(f.vq->pdesc, vc_gmem_to_hva(f.gm, f.vq->desc_gpa, NULL));
    ck_assert_ptr_eq(f.vq->driver_event, vc_gmem_to_hva(f.gm, f.vq->avail_gpa, NULL));
    ck_assert_ptr_eq(f.vq->device_event, vc_gmem_to_hva(f.gm, f.vq->used_gpa, NULL));
    ck_assert_ptr_eq(f.vq->pindirect, vc_gmem_to_hva(f.gm, f.vq->indirect_gpa, NULL));
    ck_assert_uint_eq(vc_vq_ranges(f.vq, r), 4);
    ck_assert_uint_eq(r[0].gpa, f.vq->desc_gpa);
    ck_assert_uint_eq(r[0].len, 16 * 5);
    ck_assert_uint_eq(r[1].gpa, f.vq->avail_gpa);
    ck_assert_uint_eq(r[1].len, 4);
    ck_assert_uint_eq(r[2].gpa, f.vq->used_gpa);
    ck_assert_uint_eq(r[2].len, 4);
    ck_assert_uint_eq(r[3].gpa, f.vq->indirect_gpa);
    ck_assert_uint_eq(r[3].len, 5 * 4 * 16);
    /* Zeroed parts are not guard pattern, and the ranges cover them all. */
    {
        unsigned mf;
        uint64_t off;
        ck_assert(!vc_gmem_find_stray(f.gm, r, 4, &mf, &off));
        ck_assert(vc_gmem_find_stray(f.gm, r, 3, &mf, &off));
        ck_assert_uint_eq(off, f.vq->indirect_gpa - MEM_GPA);
        ck_assert(vc_gmem_find_stray(f.gm, r + 1, 3, &mf, &off));
        ck_assert_uint_eq(off, f.vq->desc_gpa - MEM_GPA);
    }
    /* QEMU's vhost for packed rings: desc = ring, avail = driver area, used = device area. */
    vc_vq_addr(f.vq, &addr);
    ck_assert_uint_eq(addr.index, 3);
    ck_assert_uint_eq(addr.flags, 0);
    ck_assert_uint_eq(addr.desc_user_addr, f.vq->desc_gpa + VC_GMEM_UVA_OFFSET);
    ck_assert_uint_eq(addr.avail_user_addr, f.vq->avail_gpa + VC_GMEM_UVA_OFFSET);
    ck_assert_uint_eq(addr.used_user_addr, f.vq->used_gpa + VC_GMEM_UVA_OFFSET);
    ck_assert_uint_eq(addr.log_guest_addr, f.vq->used_gpa);
    fix_fini(&f);

    fix_init(&f, 8, 0, 0);
    ck_assert_uint_eq(vc_vq_ranges(f.vq, r), 3);
    ck_assert_ptr_null(f.vq->pindirect);
    ck_assert_uint_eq(r[0].len, 16 * 8);
    fix_fini(&f);
}
END_TEST

START_TEST(fresh_state)
{
    Fix f;
    void *tok;
    uint32_t len;

    for (unsigned ev = 0; ev < 2; ev++) {
        fix_init(&f, 8, ev ? VC_VQ_EVENT_IDX : 0, 0);
        /* Both wrap counters start at 1 (virtio "Ring Wrap Counters"). */
        ck_assert_uint_eq(vc_vq_base(f.vq), 0x80008000u);
        ck_assert_uint_eq(f.vq->avail_idx, 0x8000);
        ck_assert_uint_eq(f.vq->last_used, 0x8000);
        ck_assert_uint_eq(vc_vq_used_idx(f.vq), 0x8000);
        for (unsigned i = 0; i < 8; i++) {
            ck_assert_uint_eq(le16toh(f.vq->pdesc[i].flags), 0);
            ck_assert_uint_eq(le64toh(f.vq->pdesc[i].addr), 0);
        }
        ck_assert_uint_eq(le16toh(f.vq->device_event->flags), 0);
        ck_assert_uint_eq(le16toh(f.vq->device_event->off_wrap), 0);
        /* Calls on: ENABLE, or with EVENT_IDX a call at the first used slot. */
        ck_assert_uint_eq(le16toh(f.vq->driver_event->flags),
                          ev ? VRING_PACKED_EVENT_FLAG_DESC : VRING_PACKED_EVENT_FLAG_ENABLE);
        ck_assert_uint_eq(le16toh(f.vq->driver_event->off_wrap), ev ? 0x8000 : 0);
        ck_assert(!vc_vq_more_used(f.vq));
        ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, NULL), 0);
        fix_fini(&f);
    }
}
END_TEST

/* --- Chains ------------------------------------------------------------------------------ */

START_TEST(direct_chain)
{
    Fix f;
    Chain c;
    const VcSg out[] = {{MEM_GPA + 0x80000, 100}, {MEM_GPA + 0x81000, 200}};
    const VcSg in[] = {{MEM_GPA + 0x82000, 300}};
    void *tok = NULL;
    uint32_t len = 0, head = 99;

    fix_init(&f, 8, 0, 0);
    ck_assert_int_eq(vc_vq_add(f.vq, out, 2, in, 1, TOKEN(1), 0), 0);
    ck_assert_uint_eq(f.vq->num_free, 5);
    ck_assert_uint_eq(f.vq->in_flight, 1);
    ck_assert_uint_eq(f.vq->avail_idx, 0x8003);
    ck_assert_uint_eq(f.vq->heads[0].rlen, 300);
    ck_assert_uint_eq(f.vq->heads[0].wlen, 300);
    ck_assert_uint_eq(f.vq->heads[0].ndesc, 3);
    ck_assert_uint_eq(f.vq->heads[0].last, 2);
    /* Not visible before publish: the head still has its old flags. */
    ck_assert_uint_eq(le16toh(f.vq->pdesc[0].flags), 0);
    ck_assert(!dev_pop(&f.dev, &c));
    vc_vq_publish(f.vq);
    ck_assert_uint_eq(le16toh(f.vq->pdesc[0].flags), VRING_DESC_F_NEXT | F_AVAIL);
    ck_assert(dev_pop(&f.dev, &c));
    ck_assert(!c.indirect);
    ck_assert_uint_eq(c.id, 0);
    ck_assert_uint_eq(c.head, 0x8000);
    ck_assert_uint_eq(c.n, 3);
    ck_assert_uint_eq(le64toh(c.d[0].addr), MEM_GPA + 0x80000);
    ck_assert_uint_eq(le32toh(c.d[0].len), 100);
    ck_assert_uint_eq(le16toh(c.d[0].flags), VRING_DESC_F_NEXT | F_AVAIL);
    ck_assert_uint_eq(le64toh(c.d[1].addr), MEM_GPA + 0x81000);
    ck_assert_uint_eq(le32toh(c.d[1].len), 200);
    ck_assert_uint_eq(le16toh(c.d[1].flags), VRING_DESC_F_NEXT | F_AVAIL);
    ck_assert_uint_eq(le64toh(c.d[2].addr), MEM_GPA + 0x82000);
    ck_assert_uint_eq(le32toh(c.d[2].len), 300);
    ck_assert_uint_eq(le16toh(c.d[2].flags), VRING_DESC_F_WRITE | F_AVAIL);
    ck_assert(!dev_pop(&f.dev, &c));
    /* Publishing again without new chains changes nothing. */
    vc_vq_publish(f.vq);
    ck_assert(!dev_pop(&f.dev, &c));

    ck_assert(!vc_vq_more_used(f.vq));
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, &head), 0);
    dev_push(&f.dev, 0, 123, 3);
    ck_assert(vc_vq_more_used(f.vq));
    ck_assert_uint_eq(vc_vq_used_idx(f.vq), 0x8003);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, &head), 1);
    ck_assert_ptr_eq(tok, TOKEN(1));
    ck_assert_uint_eq(len, 123);
    ck_assert_uint_eq(head, 0);
    ck_assert_uint_eq(f.vq->num_free, 8);
    ck_assert_uint_eq(f.vq->in_flight, 0);
    ck_assert_uint_eq(f.vq->n_added, 1);
    ck_assert_uint_eq(f.vq->n_used, 1);
    ck_assert_uint_eq(f.vq->last_used, 0x8003);
    ck_assert_uint_eq(vc_vq_base(f.vq), 0x80038003u);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, NULL), 0);
    ck_assert(!vc_vq_more_used(f.vq));
    fix_fini(&f);
}
END_TEST

/* Device-readable only and device-writable only chains; ids come from the free list. */
START_TEST(one_sided_chains)
{
    Fix f;
    Chain c;
    const VcSg sg[] = {{MEM_GPA + 0x80000, 1}, {MEM_GPA + 0x80010, 2}};

    fix_init(&f, 8, 0, 0);
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 2, NULL, 0, TOKEN(1), 0), 0);
    ck_assert_int_eq(vc_vq_add(f.vq, NULL, 0, sg, 1, TOKEN(2), 0), 1);
    vc_vq_publish(f.vq);
    ck_assert(dev_pop(&f.dev, &c));
    ck_assert_uint_eq(c.id, 0);
    ck_assert_uint_eq(c.n, 2);
    ck_assert_uint_eq(le16toh(c.d[0].flags), VRING_DESC_F_NEXT | F_AVAIL);
    ck_assert_uint_eq(le16toh(c.d[1].flags), F_AVAIL);
    ck_assert(dev_pop(&f.dev, &c));
    ck_assert_uint_eq(c.id, 1);
    ck_assert_uint_eq(c.head, 0x8002);
    ck_assert_uint_eq(c.n, 1);
    ck_assert_uint_eq(le16toh(c.d[0].flags), VRING_DESC_F_WRITE | F_AVAIL);
    ck_assert_uint_eq(le32toh(c.d[0].len), 1);
    fix_fini(&f);
}
END_TEST

START_TEST(indirect_chain)
{
    Fix f;
    Chain c;
    const VcSg out[] = {{MEM_GPA + 0x80000, 16}};
    const VcSg in[] = {{MEM_GPA + 0x81000, 512}, {MEM_GPA + 0x82000, 1}};
    const struct vring_packed_desc *t;
    uint32_t len, head;
    void *tok;

    fix_init(&f, 8, VC_VQ_INDIRECT, 4);
    ck_assert_int_eq(vc_vq_add(f.vq, out, 1, NULL, 0, TOKEN(6), 0), 0);
    ck_assert_int_eq(vc_vq_add(f.vq, out, 1, in, 2, TOKEN(7), VC_ADD_INDIRECT), 1);
    /* One ring slot for the whole chain, the table of id 1. */
    ck_assert_uint_eq(f.vq->num_free, 6);
    ck_assert_uint_eq(f.vq->avail_idx, 0x8002);
    ck_assert_uint_eq(f.vq->heads[1].ndesc, 1);
    ck_assert_uint_eq(le32toh(f.vq->pdesc[1].len), 3 * 16);
    ck_assert_uint_eq(le64toh(f.vq->pdesc[1].addr), f.vq->indirect_gpa + 1 * 4 * 16);
    ck_assert_uint_eq(le16toh(f.vq->pdesc[1].id), 1);
    /* The second head is behind the first one, which is not published yet. */
    ck_assert_uint_eq(le16toh(f.vq->pdesc[0].flags), 0);
    ck_assert(!dev_pop(&f.dev, &c));
    vc_vq_publish(f.vq);
    ck_assert_uint_eq(le16toh(f.vq->pdesc[1].flags), VRING_DESC_F_INDIRECT | F_AVAIL);
    ck_assert(dev_pop(&f.dev, &c));
    ck_assert_uint_eq(c.id, 0);
    ck_assert(dev_pop(&f.dev, &c));
    ck_assert(c.indirect);
    ck_assert_uint_eq(c.id, 1);
    ck_assert_uint_eq(c.n, 3);
    /* In a table WRITE is the only flag, entries follow each other, ids are reserved (0). */
    t = c.d;
    ck_assert_uint_eq(le64toh(t[0].addr), MEM_GPA + 0x80000);
    ck_assert_uint_eq(le32toh(t[0].len), 16);
    ck_assert_uint_eq(le16toh(t[0].flags), 0);
    ck_assert_uint_eq(le16toh(t[0].id), 0);
    ck_assert_uint_eq(le64toh(t[1].addr), MEM_GPA + 0x81000);
    ck_assert_uint_eq(le32toh(t[1].len), 512);
    ck_assert_uint_eq(le16toh(t[1].flags), VRING_DESC_F_WRITE);
    ck_assert_uint_eq(le64toh(t[2].addr), MEM_GPA + 0x82000);
    ck_assert_uint_eq(le32toh(t[2].len), 1);
    ck_assert_uint_eq(le16toh(t[2].flags), VRING_DESC_F_WRITE);
    ck_assert_uint_eq(le16toh(t[2].id), 0);
    /* The device completes the indirect chain first. */
    dev_push(&f.dev, 1, 513, 1);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, &head), 1);
    ck_assert_ptr_eq(tok, TOKEN(7));
    ck_assert_uint_eq(len, 513);
    ck_assert_uint_eq(head, 1);
    ck_assert_uint_eq(f.vq->num_free, 7);
    ck_assert_uint_eq(f.vq->last_used, 0x8001);
    dev_push(&f.dev, 0, 0, 1);
    reap_one(&f, TOKEN(6), 0);
    ck_assert_uint_eq(f.vq->num_free, 8);
    fix_fini(&f);
}
END_TEST

/* Eight indirect chains fill an 8-slot ring, each with the table of its own id. */
START_TEST(indirect_fills_ring)
{
    Fix f;
    Chain c;
    const VcSg in[] = {{MEM_GPA + 0x90000, 8}, {MEM_GPA + 0x91000, 8}};
    bool seen[8] = {false};

    fix_init(&f, 8, VC_VQ_INDIRECT, 2);
    for (unsigned i = 0; i < 8; i++) {
        ck_assert_int_eq(vc_vq_add(f.vq, NULL, 0, in, 2, TOKEN(i), VC_ADD_INDIRECT), (int)i);
    }
    ck_assert_int_eq(vc_vq_add(f.vq, NULL, 0, in, 1, TOKEN(9), VC_ADD_INDIRECT), -ENOSPC);
    ck_assert_int_eq(vc_vq_add(f.vq, NULL, 0, in, 1, TOKEN(9), 0), -ENOSPC);
    ck_assert_uint_eq(f.vq->avail_idx, 0x0000);
    vc_vq_publish(f.vq);
    for (unsigned i = 0; i < 8; i++) {
        ck_assert(dev_pop(&f.dev, &c));
        ck_assert(c.indirect);
        ck_assert_uint_lt(c.id, 8);
        ck_assert(!seen[c.id]);
        seen[c.id] = true;
        ck_assert_uint_eq(le64toh(f.vq->pdesc[i].addr), f.vq->indirect_gpa + c.id * 2 * 16);
    }
    ck_assert(!dev_pop(&f.dev, &c));
    fix_fini(&f);
}
END_TEST

START_TEST(add_rejects_bad_chains)
{
    Fix f;
    VcSg sg[9];

    for (unsigned i = 0; i < 9; i++) {
        sg[i] = (VcSg){MEM_GPA + 0x80000 + i * 64, 64};
    }
    fix_init(&f, 8, VC_VQ_INDIRECT, 4);
    ck_assert_int_eq(vc_vq_add(f.vq, NULL, 0, NULL, 0, TOKEN(0), 0), -EINVAL);
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 1, NULL, 0, NULL, 0), -EINVAL);
    /* An indirect table holds at most indirect_max descriptors. */
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 3, sg, 2, TOKEN(0), VC_ADD_INDIRECT), -EINVAL);
    /* A direct chain longer than the ring can never fit. */
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 5, sg, 4, TOKEN(0), 0), -EINVAL);
    ck_assert_uint_eq(f.vq->num_free, 8);
    ck_assert_uint_eq(f.vq->in_flight, 0);
    ck_assert_uint_eq(f.vq->avail_idx, 0x8000);
    ck_assert(!f.vq->pending);
    fix_fini(&f);

    /* Indirect without VIRTIO_RING_F_INDIRECT_DESC. */
    fix_init(&f, 8, 0, 0);
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(0), VC_ADD_INDIRECT), -EINVAL);
    /* Exactly the ring size is fine: the ring end comes right after it. */
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 4, sg, 4, TOKEN(0), 0), 0);
    ck_assert_uint_eq(f.vq->num_free, 0);
    ck_assert_uint_eq(f.vq->avail_idx, 0x0000);
    fix_fini(&f);
}
END_TEST

START_TEST(ring_full)
{
    Fix f;
    Chain c;
    const VcSg sg[] = {{MEM_GPA + 0x80000, 8}, {MEM_GPA + 0x80008, 8}, {MEM_GPA + 0x80010, 8}};

    fix_init(&f, 7, VC_VQ_INDIRECT, 4);
    for (unsigned i = 0; i < 7; i++) {
        ck_assert_int_eq(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(i), 0), (int)i);
    }
    ck_assert_uint_eq(f.vq->num_free, 0);
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(8), 0), -ENOSPC);
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(8), VC_ADD_INDIRECT), -ENOSPC);
    vc_vq_publish(f.vq);
    /* Two completions free two slots: a 3-slot chain still does not fit. */
    for (unsigned i = 0; i < 2; i++) {
        ck_assert(dev_pop(&f.dev, &c));
        dev_push(&f.dev, c.id, 0, c.nslots);
        reap_one(&f, TOKEN(i), 0);
    }
    ck_assert_uint_eq(f.vq->num_free, 2);
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 2, sg, 1, TOKEN(9), 0), -ENOSPC);
    /* An indirect one does, and a 1-slot chain then fills the ring. */
    ck_assert_int_ge(vc_vq_add(f.vq, sg, 2, sg, 1, TOKEN(9), VC_ADD_INDIRECT), 0);
    ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(10), 0), 0);
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(11), 0), -ENOSPC);
    ck_assert_uint_eq(f.vq->in_flight, 7);
    fix_fini(&f);
}
END_TEST

/* A chain across the ring end: the avail bits flip in the middle of the chain. */
START_TEST(chain_straddles_ring_end)
{
    Fix f;
    Chain c;
    const VcSg out[] = {{MEM_GPA + 0x80000, 10}};
    const VcSg in[] = {{MEM_GPA + 0x81000, 20}, {MEM_GPA + 0x82000, 30}};

    fix_init(&f, 4, 0, 0);
    vc_vq_reset(f.vq, 3);
    ck_assert_uint_eq(vc_vq_base(f.vq), 0x80038003u);
    dev_init(&f.dev, f.vq);
    ck_assert_int_eq(vc_vq_add(f.vq, out, 1, in, 2, TOKEN(0), 0), 0);
    ck_assert_uint_eq(f.vq->avail_idx, 0x0002);
    ck_assert_uint_eq(f.vq->heads[0].last, 1);
    /* Slots 0 and 1 are in the next lap: USED set, AVAIL clear. */
    ck_assert_uint_eq(le16toh(f.vq->pdesc[0].flags),
                      VRING_DESC_F_NEXT | VRING_DESC_F_WRITE | F_USED);
    ck_assert_uint_eq(le16toh(f.vq->pdesc[1].flags), VRING_DESC_F_WRITE | F_USED);
    vc_vq_publish(f.vq);
    ck_assert_uint_eq(le16toh(f.vq->pdesc[3].flags), VRING_DESC_F_NEXT | F_AVAIL);
    ck_assert(dev_pop(&f.dev, &c));
    ck_assert_uint_eq(c.n, 3);
    ck_assert_uint_eq(c.head, 0x8003);
    ck_assert_uint_eq(f.dev.avail, 0x0002);
    ck_assert_uint_eq(le32toh(c.d[2].len), 30);
    dev_push(&f.dev, 0, 50, 3);
    ck_assert_uint_eq(vc_vq_used_idx(f.vq), 0x0002);
    reap_one(&f, TOKEN(0), 50);
    ck_assert_uint_eq(f.vq->last_used, 0x0002);
    ck_assert_uint_eq(vc_vq_base(f.vq), 0x00020002u);
    /* The next chain sits at slot 2 in the second lap. */
    ck_assert_int_eq(vc_vq_add(f.vq, out, 1, NULL, 0, TOKEN(1), 0), 0);
    vc_vq_publish(f.vq);
    ck_assert_uint_eq(le16toh(f.vq->pdesc[2].flags), F_USED);
    ck_assert(dev_pop(&f.dev, &c));
    ck_assert_uint_eq(c.head, 0x0002);
    dev_push(&f.dev, 0, 0, 1);
    reap_one(&f, TOKEN(1), 0);
    ck_assert_uint_eq(vc_vq_base(f.vq), 0x00030003u);
    fix_fini(&f);
}
END_TEST

/*
 * Out-of-order completion (loop index seeds the order; odd: the device completes all before
 * the driver reaps). 15 of 16 slots per round, so positions shift and chains straddle the end.
 */
START_TEST(out_of_order)
{
    Fix f;
    static const unsigned lens[] = {1, 2, 3, 4, 2, 1, 3, 3}; /* the last two indirect */
    enum { N = G_N_ELEMENTS(lens), SLOTS = 13 + 2 };
    Chain chains[N];
    unsigned order[N];
    VcSg sg[4];
    GRand *rand = g_rand_new_with_seed((guint32)_i);
    uint64_t slots = 0;

    for (unsigned i = 0; i < 4; i++) {
        sg[i] = (VcSg){MEM_GPA + 0x80000 + i * 0x100, 0x100};
    }
    fix_init(&f, 16, VC_VQ_INDIRECT, 4);
    for (unsigned round = 0; round < 12; round++) {
        bool id_seen[16] = {false};
        for (unsigned i = 0; i < N; i++) {
            unsigned fl = i >= N - 2 ? VC_ADD_INDIRECT : 0;
            int id = vc_vq_add(f.vq, sg, lens[i] / 2, sg, lens[i] - lens[i] / 2, TOKEN(i), fl);
            ck_assert_int_ge(id, 0);
            ck_assert_int_lt(id, 16);
            ck_assert(!id_seen[id]);
            id_seen[id] = true;
            order[i] = i;
        }
        ck_assert_uint_eq(f.vq->num_free, 16 - SLOTS);
        ck_assert_int_eq(vc_vq_add(f.vq, sg, 4, NULL, 0, TOKEN(99), 0), -ENOSPC);
        vc_vq_publish(f.vq);
        for (unsigned i = 0; i < N; i++) {
            ck_assert(dev_pop(&f.dev, &chains[i]));
            ck_assert_uint_eq(chains[i].n, lens[i]);
            ck_assert_uint_eq(chains[i].nslots, i >= N - 2 ? 1 : lens[i]);
            ck_assert_uint_eq(chains[i].indirect, i >= N - 2);
            ck_assert_uint_eq(chains[i].head, enc_count(16, slots));
            slots += chains[i].nslots;
        }
        ck_assert(!dev_pop(&f.dev, &chains[0]));
        for (unsigned i = N - 1; i > 0; i--) {
            unsigned j = (unsigned)g_rand_int_range(rand, 0, (gint32)i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (unsigned i = 0; i < N; i++) {
            Chain *c = &chains[order[i]];
            dev_push(&f.dev, c->id, 1000 + order[i], c->nslots);
            if (!(_i & 1)) {
                uint32_t head;
                void *tok;
                uint32_t len;
                ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, &head), 1);
                ck_assert_ptr_eq(tok, TOKEN(order[i]));
                ck_assert_uint_eq(len, 1000 + order[i]);
                ck_assert_uint_eq(head, c->id);
            }
        }
        if (_i & 1) {
            ck_assert_uint_eq(vc_vq_used_idx(f.vq), enc_count(16, slots));
            for (unsigned i = 0; i < N; i++) {
                reap_one(&f, TOKEN(order[i]), 1000 + order[i]);
            }
        }
        ck_assert(!vc_vq_more_used(f.vq));
        ck_assert_uint_eq(f.vq->num_free, 16);
        ck_assert_uint_eq(f.vq->in_flight, 0);
        ck_assert_uint_eq(vc_vq_base(f.vq),
                          enc_count(16, slots) | (uint32_t)enc_count(16, slots) << 16);
    }
    /* Twelve rounds of 15 slots: 180 slots, eleven laps and 4: counters 0. */
    ck_assert_uint_eq(vc_vq_base(f.vq), 0x00040004u);
    g_rand_free(rand);
    fix_fini(&f);
}
END_TEST

/*
 * Many laps of both wrap counters on rings of odd sizes: mixed direct and indirect chains,
 * batches of varying size, in-order completion that lags the driver. The driver's state is
 * checked against free-running slot counts after every step.
 */
static const uint16_t wrap_sizes[] = {1, 2, 3, 5, 8, 255, 256};

START_TEST(wrap_many_rounds)
{
    Fix f;
    uint16_t num = wrap_sizes[_i];
    GRand *rand = g_rand_new_with_seed(1234 + (guint32)_i);
    const VcSg sg[] = {{MEM_GPA + 0xa0000, 16}, {MEM_GPA + 0xa1000, 16}, {MEM_GPA + 0xa2000, 16}};
    enum { TOTAL = 3000 };
    unsigned nslots_of[TOTAL];
    uint16_t id_of[TOTAL];
    uint64_t c_avail = 0, c_used = 0;
    unsigned sent = 0, done = 0, fetched = 0;
    Chain c;

    fix_init(&f, num, VC_VQ_INDIRECT, 3);
    while (done < TOTAL) {
        /* A batch: as many chains as fit, at most a random number. */
        unsigned want = (unsigned)g_rand_int_range(rand, 1, 6);
        for (unsigned k = 0; k < want && sent < TOTAL; k++) {
            unsigned n = (unsigned)g_rand_int_range(rand, 1, 4);
            bool ind = g_rand_int_range(rand, 0, 3) == 0;
            unsigned slots = ind ? 1 : n;
            int r;
            if (!ind && n > num) {
                n = slots = num;
            }
            r = vc_vq_add(f.vq, sg, n / 2, sg + n / 2, n - n / 2, TOKEN(sent),
                          ind ? VC_ADD_INDIRECT : 0);
            if (r == -ENOSPC) {
                ck_assert_uint_lt(f.vq->num_free, slots);
                break;
            }
            ck_assert_int_ge(r, 0);
            nslots_of[sent++] = slots;
            c_avail += slots;
            ck_assert_uint_eq(f.vq->avail_idx, enc_count(num, c_avail));
        }
        vc_vq_publish(f.vq);
        /* The device fetches everything, then completes a random part of it in order. */
        while (dev_pop(&f.dev, &c)) {
            ck_assert_uint_eq(c.nslots, nslots_of[fetched]);
            id_of[fetched++] = c.id;
        }
        ck_assert_uint_eq(fetched, sent);
        {
            unsigned complete = (unsigned)g_rand_int_range(rand, 0, (gint32)(sent - done) + 1);
            if (f.vq->num_free == 0 && complete == 0) {
                complete = 1;
            }
            for (unsigned k = 0; k < complete; k++) {
                unsigned seq = done + k;
                dev_push(&f.dev, id_of[seq], seq & 0xffff, nslots_of[seq]);
                c_used += nslots_of[seq];
            }
            ck_assert_uint_eq(vc_vq_used_idx(f.vq), enc_count(num, c_used));
            for (unsigned k = 0; k < complete; k++) {
                reap_one(&f, TOKEN(done), done & 0xffff);
                done++;
            }
        }
        ck_assert(!vc_vq_more_used(f.vq));
        ck_assert_uint_eq(f.vq->last_used, enc_count(num, c_used));
        ck_assert_uint_eq(f.vq->num_free, num - (c_avail - c_used));
        ck_assert_uint_eq(f.vq->in_flight, sent - done);
        ck_assert_uint_eq(vc_vq_base(f.vq),
                          enc_count(num, c_avail) | (uint32_t)enc_count(num, c_used) << 16);
    }
    /* Both counters flipped many times. */
    ck_assert_uint_ge(c_used / num, 10);
    g_rand_free(rand);
    fix_fini(&f);
}
END_TEST

START_TEST(pop_used_bad_id)
{
    Fix f;
    Chain c;
    const VcSg sg[] = {{MEM_GPA + 0x80000, 8}};
    void *tok = TOKEN(77);
    uint32_t len = 0, head = 0;

    fix_init(&f, 8, 0, 0);
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(1), 0), 0);
    vc_vq_publish(f.vq);
    ck_assert(dev_pop(&f.dev, &c));
    /* Out of range. */
    dev_push(&f.dev, 8 + 3, 5, 1);
    ck_assert(vc_vq_more_used(f.vq));
    ck_assert_uint_eq(vc_vq_used_idx(f.vq), 0x8000);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, &head), -EPROTO);
    ck_assert_uint_eq(head, 11);
    ck_assert_uint_eq(len, 5);
    ck_assert_ptr_eq(tok, TOKEN(77));
    /* The bad descriptor was consumed: one slot on, nothing freed. */
    ck_assert_uint_eq(f.vq->last_used, 0x8001);
    ck_assert_uint_eq(f.vq->num_free, 7);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, &head), 0);
    /* In range but never made available. */
    dev_push(&f.dev, 5, 0, 1);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, &head), -EPROTO);
    ck_assert_uint_eq(head, 5);
    dev_push(&f.dev, 0xffff, 0, 1);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, &head), -EPROTO);
    ck_assert_uint_eq(head, 0xffff);
    /* The real chain is still in flight and completes normally. */
    ck_assert_uint_eq(f.vq->in_flight, 1);
    dev_push(&f.dev, c.id, 8, 1);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, &head), 1);
    ck_assert_ptr_eq(tok, TOKEN(1));
    ck_assert_uint_eq(head, 0);
    ck_assert_uint_eq(f.vq->num_free, 8);
    ck_assert_uint_eq(f.vq->in_flight, 0);
    ck_assert_uint_eq(f.vq->n_used, 1);
    fix_fini(&f);
}
END_TEST

START_TEST(pop_used_duplicate_id)
{
    Fix f;
    Chain c;
    const VcSg sg[] = {{MEM_GPA + 0x80000, 8}, {MEM_GPA + 0x80100, 8}};
    void *tok;
    uint32_t len, head;

    fix_init(&f, 8, 0, 0);
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 2, NULL, 0, TOKEN(1), 0), 0);
    vc_vq_publish(f.vq);
    ck_assert(dev_pop(&f.dev, &c));
    dev_push(&f.dev, c.id, 1, 2);
    dev_push(&f.dev, c.id, 2, 2);
    /* The walk counts the duplicate only once. */
    ck_assert_uint_eq(vc_vq_used_idx(f.vq), 0x8002);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, &head), 1);
    ck_assert_ptr_eq(tok, TOKEN(1));
    ck_assert_uint_eq(vc_vq_used_idx(f.vq), 0x8002);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, &head), -EPROTO);
    ck_assert_uint_eq(head, c.id);
    ck_assert_uint_eq(len, 2);
    /* The duplicate did not free the chain's slots twice. */
    ck_assert_uint_eq(f.vq->num_free, 8);
    ck_assert_uint_eq(f.vq->in_flight, 0);
    ck_assert_uint_eq(f.vq->n_used, 1);
    ck_assert_uint_eq(f.vq->last_used, 0x8003);
    fix_fini(&f);
}
END_TEST

/* A used descriptor is only one when both bits match the lap the driver reads. */
START_TEST(pop_used_needs_both_bits)
{
    Fix f;
    Chain c;
    const VcSg sg[] = {{MEM_GPA + 0x80000, 8}};
    void *tok;
    uint32_t len;

    fix_init(&f, 8, 0, 0);
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(1), 0), 0);
    vc_vq_publish(f.vq);
    ck_assert(dev_pop(&f.dev, &c));
    /* USED alone (AVAIL cleared): neither available nor used in lap 1. */
    f.vq->pdesc[0].flags = htole16(F_USED);
    ck_assert(!vc_vq_more_used(f.vq));
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, NULL), 0);
    /* Both bits 0: used, but in the previous lap. */
    f.vq->pdesc[0].flags = htole16(0);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, NULL), 0);
    f.vq->pdesc[0].flags = htole16(F_USED | F_AVAIL | VRING_DESC_F_WRITE);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, NULL), 1);
    fix_fini(&f);
}
END_TEST

START_TEST(reset_forgets_chains)
{
    Fix f;
    const VcSg sg[] = {{MEM_GPA + 0x80000, 8}};
    void *tok;
    uint32_t len;
    Chain c;

    fix_init(&f, 8, VC_VQ_INDIRECT, 2);
    for (unsigned i = 0; i < 5; i++) {
        ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(i), i & 1 ? VC_ADD_INDIRECT : 0),
                         0);
    }
    /* Reset with a batch pending: the pending head must not be published afterwards. */
    vc_vq_reset(f.vq, 100);
    /* 100 slots through a ring of 8: position 4, 12 laps: counters back at 1. */
    ck_assert_uint_eq(vc_vq_base(f.vq), 0x80048004u);
    ck_assert_uint_eq(f.vq->num_free, 8);
    ck_assert_uint_eq(f.vq->in_flight, 0);
    ck_assert(!f.vq->pending);
    for (unsigned i = 0; i < 8; i++) {
        /* Slots 0-3 were used in this lap, 4-7 in the previous one. */
        ck_assert_uint_eq(le16toh(f.vq->pdesc[i].flags), i < 4 ? (F_AVAIL | F_USED) : 0);
        ck_assert_uint_eq(le64toh(f.vq->pdesc[i].addr), 0);
        ck_assert_uint_eq(le16toh(f.vq->pdesc[i].id), 0);
    }
    ck_assert_uint_eq(le64toh(f.vq->pindirect[1 * 2].addr), 0);
    vc_vq_publish(f.vq);
    dev_init(&f.dev, f.vq);
    ck_assert(!dev_pop(&f.dev, &c));
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, NULL), 0);
    /* An id from before the reset is no longer in flight. */
    dev_push(&f.dev, 0, 0, 1);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, NULL), -EPROTO);

    /* 13 slots through a ring of 8: position 5, counters 0. */
    vc_vq_reset(f.vq, 13);
    ck_assert_uint_eq(vc_vq_base(f.vq), 0x00050005u);
    for (unsigned i = 0; i < 8; i++) {
        ck_assert_uint_eq(le16toh(f.vq->pdesc[i].flags), i < 5 ? 0 : (F_AVAIL | F_USED));
    }
    dev_init(&f.dev, f.vq);
    for (unsigned i = 0; i < 20; i++) {
        ck_assert_int_eq(vc_vq_add(f.vq, sg, 1, sg, 1, TOKEN(i), 0), 0);
        vc_vq_publish(f.vq);
        ck_assert(dev_pop(&f.dev, &c));
        ck_assert_uint_eq(c.head, enc_count(8, 13 + 2 * i));
        dev_push(&f.dev, c.id, i, 2);
        reap_one(&f, TOKEN(i), i);
    }
    ck_assert_uint_eq(vc_vq_base(f.vq),
                      enc_count(8, 53) | (uint32_t)enc_count(8, 53) << 16);
    fix_fini(&f);
}
END_TEST

/* --- SET/GET_VRING_BASE encoding -------------------------------------------------------- */

static const struct {
    uint16_t num;
    uint32_t base;
    int ret;            /* vc_vq_reset_base() */
    uint16_t num_free;  /* slots left when the device stands ahead of the driver's used slot */
} base_cases[] = {
    {8, 0x80008000u, 0, 8},
    {8, 0x00000000u, 0, 8},
    {8, 0x80038003u, 0, 8},
    {8, 0x00070007u, 0, 8},
    {8, 0x80038005u, 0, 6},     /* fetched 2, not completed */
    {8, 0x80060001u, 0, 5},     /* avail wrapped once more: 1 + 8 - 6 slots ahead */
    {8, 0x00078007u, 0, 0},     /* a whole ring ahead */
    {8, 0x80058003u, -EINVAL, 0},  /* avail behind used */
    {8, 0x80020006u, -EINVAL, 0},  /* more than a ring ahead */
    {8, 0x00028006u, -EINVAL, 0},  /* more than a ring ahead (or behind) */
    {8, 0x80008008u, -EINVAL, 0},  /* avail position out of the ring */
    {8, 0x80098000u, -EINVAL, 0},  /* used position out of the ring */
    {8, 0xffffffffu, -EINVAL, 0},
    {1, 0x00000000u, 0, 1},
    {1, 0x80000000u, 0, 0},
    {1, 0x80018001u, -EINVAL, 0},
    {300, 0x012b012bu, 0, 300},    /* slot 299, counters 0 */
    {300, 0x812b812bu, 0, 300},
    {300, 0x812b012bu, 0, 0},      /* a whole ring ahead, either way round */
    {300, 0x012b812bu, 0, 0},
    {300, 0x812c812bu, -EINVAL, 0},
};

START_TEST(base_round_trip)
{
    Fix f;
    const VcSg sg[] = {{MEM_GPA + 0x80000, 8}, {MEM_GPA + 0x80100, 8}};
    uint16_t num = base_cases[_i].num;
    uint32_t base = base_cases[_i].base;
    uint16_t avail = (uint16_t)base, used = (uint16_t)(base >> 16);
    Chain c;

    fix_init(&f, num, 0, 0);
    /* A known state first: one chain in flight. */
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(100), 0), 0);
    ck_assert_int_eq(vc_vq_reset_base(f.vq, base), base_cases[_i].ret);
    if (base_cases[_i].ret < 0) {
        /* Peer data that does not fit the ring: nothing changed. */
        ck_assert_uint_eq(vc_vq_base(f.vq), enc_count(num, 1) | 0x8000u << 16);
        ck_assert_uint_eq(f.vq->in_flight, 1);
        ck_assert_uint_eq(f.vq->num_free, num - 1);
        fix_fini(&f);
        return;
    }
    ck_assert_uint_eq(vc_vq_base(f.vq), base);
    ck_assert_uint_eq(f.vq->avail_idx, avail);
    ck_assert_uint_eq(f.vq->last_used, used);
    ck_assert_uint_eq(f.vq->num_free, base_cases[_i].num_free);
    ck_assert_uint_eq(f.vq->in_flight, 0);
    ck_assert_uint_eq(vc_vq_used_idx(f.vq), used);
    for (unsigned p = 0; p < num; p++) {
        bool lap = p < (used & 0x7fffu) ? (used & WRAP) : !(used & WRAP);
        ck_assert_uint_eq(le16toh(f.vq->pdesc[p].flags), lap ? (F_AVAIL | F_USED) : 0);
    }
    /* A device restarted from the same base runs with the driver; the gap stays. */
    dev_init(&f.dev, f.vq);
    ck_assert(!dev_pop(&f.dev, &c));
    for (unsigned i = 0; i < 3u * num && base_cases[_i].num_free; i++) {
        unsigned n = base_cases[_i].num_free >= 2 ? 2 : 1;
        ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, sg + 1, n - 1, TOKEN(i), 0), 0);
        vc_vq_publish(f.vq);
        ck_assert(dev_pop(&f.dev, &c));
        ck_assert_uint_eq(c.nslots, n);
        dev_push(&f.dev, c.id, i, n);
        reap_one(&f, TOKEN(i), i);
        ck_assert_uint_eq(f.vq->num_free, base_cases[_i].num_free);
        ck_assert_uint_eq(f.vq->avail_idx, f.dev.avail);
        ck_assert_uint_eq(f.vq->last_used, f.dev.used);
    }
    /* The round trip holds wherever the ring now stands. */
    {
        uint32_t now = vc_vq_base(f.vq);
        ck_assert_int_eq(vc_vq_reset_base(f.vq, now), 0);
        ck_assert_uint_eq(vc_vq_base(f.vq), now);
        ck_assert_uint_eq(f.vq->num_free, base_cases[_i].num_free);
    }
    fix_fini(&f);
}
END_TEST

/* vc_vq_reset(idx) is vc_vq_reset_base() of the idx-th slot on both sides. */
START_TEST(reset_idx_encoding)
{
    Fix f;
    static const struct {
        uint16_t num, idx;
        uint32_t base;
    } cases[] = {
        {8, 0, 0x80008000u},     {8, 7, 0x80078007u},     {8, 8, 0x00000000u},
        {8, 15, 0x00070007u},    {8, 16, 0x80008000u},    {8, 65535, 0x00070007u},
        {5, 65535, 0x00000000u}, {5, 65530, 0x80008000u}, {1, 1, 0},
        {1, 2, 0x80008000u},     {3, 4, 0x00010001u},
    };

    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        fix_init(&f, cases[i].num, 0, 0);
        vc_vq_reset(f.vq, cases[i].idx);
        ck_assert_msg(vc_vq_base(f.vq) == cases[i].base, "num %u idx %u: base 0x%08x, want 0x%08x",
                      cases[i].num, cases[i].idx, vc_vq_base(f.vq), cases[i].base);
        ck_assert_uint_eq(vc_vq_reset_base(f.vq, cases[i].base), 0);
        ck_assert_uint_eq(vc_vq_base(f.vq), cases[i].base);
        fix_fini(&f);
    }
}
END_TEST

/* The split layout's base is its 16-bit avail index; the upper half is not state. */
START_TEST(base_split_layout)
{
    g_autoptr(VcGmem) gm = vc_gmem_new();
    g_autoptr(GError) err = NULL;
    g_autoptr(VcVq) vq = NULL;
    const VcSg sg[] = {{MEM_GPA + 0x80000, 8}};

    ck_assert_int_eq(vc_gmem_add_simple(gm, MEM_GPA, MEM_SIZE, false), 0);
    vq = vc_vq_new_split(gm, 0, 8, 0, 0, &err);
    ck_assert_ptr_nonnull(vq);
    ck_assert(!vq->packed);
    ck_assert_ptr_eq(vq->ops, &vc_vq_split_ops);
    ck_assert_ptr_null(vq->pdesc);
    ck_assert_uint_eq(vc_vq_base(vq), 0);
    vc_vq_reset(vq, 65530);
    ck_assert_uint_eq(vc_vq_base(vq), 65530);
    ck_assert_int_ge(vc_vq_add(vq, sg, 1, NULL, 0, TOKEN(0), 0), 0);
    ck_assert_uint_eq(vc_vq_base(vq), 65531);
    ck_assert_int_eq(vc_vq_reset_base(vq, 0x00012345u), 0);
    ck_assert_uint_eq(vc_vq_base(vq), 0x2345);
    ck_assert_uint_eq(vq->avail_idx, 0x2345);
    ck_assert_uint_eq(vq->last_used, 0x2345);
    ck_assert_uint_eq(vq->in_flight, 0);
    ck_assert_uint_eq(vq->num_free, 8);
    ck_assert_uint_eq(le16toh(vq->avail->idx), 0x2345);
    ck_assert_uint_eq(le16toh(vq->used->idx), 0x2345);
    ck_assert_uint_eq(vc_vq_used_idx(vq), 0x2345);
    ck_assert_int_eq(vc_vq_reset_base(vq, 0xffffffffu), 0);
    ck_assert_uint_eq(vc_vq_base(vq), 0xffff);
}
END_TEST

/* --- Notifications --------------------------------------------------------------------- */

START_TEST(kick_needed_no_event_idx)
{
    Fix f;
    const VcSg sg[] = {{MEM_GPA + 0x80000, 8}};
    static const struct {
        uint16_t flags, off_wrap;
        bool kick;
    } cases[] = {
        {VRING_PACKED_EVENT_FLAG_ENABLE, 0, true},
        {VRING_PACKED_EVENT_FLAG_DISABLE, 0, false},
        {VRING_PACKED_EVENT_FLAG_DISABLE, 0x8001, false},
        /* DESC needs EVENT_IDX: without it, it is no reason to stay silent. */
        {VRING_PACKED_EVENT_FLAG_DESC, 0x8005, true},
        {0x3, 0x8005, true},
        /* Reserved bits do not turn ENABLE into something else, nor DISABLE. */
        {0x4 | VRING_PACKED_EVENT_FLAG_ENABLE, 0, true},
        {0xfffc | VRING_PACKED_EVENT_FLAG_DISABLE, 0, false},
        {VRING_PACKED_EVENT_FLAG_ENABLE, 0x7fff, true},
    };

    fix_init(&f, 8, 0, 0);
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        dev_set_event(&f.dev, cases[i].flags, cases[i].off_wrap);
        ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(i), 0), 0);
        vc_vq_publish(f.vq);
        ck_assert_msg(vc_vq_kick_needed(f.vq) == cases[i].kick, "case %u: flags 0x%x", i,
                      cases[i].flags);
        ck_assert_uint_eq(vc_vq_avail_event(f.vq), cases[i].off_wrap);
    }
    fix_fini(&f);
}
END_TEST

/*
 * EVENT_IDX: with DESC, kick when the batch made the slot at off_wrap available (virtio
 * "Event Suppression"; Linux's virtqueue_kick_prepare_packed).
 */
static const struct {
    uint16_t num;
    uint16_t start;      /* vc_vq_reset() index */
    unsigned first;      /* 1-slot chains added and kick-checked before */
    unsigned batch;      /* chains added in this batch */
    unsigned len;        /* slots per chain in the batch */
    uint16_t flags;
    uint16_t off_wrap;
    bool kick;
} event_cases[] = {
    {8, 0, 0, 1, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x8000, true},
    {8, 0, 0, 1, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x8001, false},
    {8, 0, 0, 3, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x8002, true},
    {8, 0, 0, 3, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x8003, false},
    {8, 0, 0, 3, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x0007, false},  /* previous lap: passed */
    {8, 0, 0, 3, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x0002, false},  /* wrong lap */
    {8, 0, 2, 2, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x8001, false},  /* kicked past already */
    {8, 0, 2, 2, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x8002, true},
    {8, 0, 2, 2, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x8003, true},
    {8, 0, 2, 2, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x8004, false},
    /* A chain of three slots: the middle one counts. */
    {8, 0, 1, 1, 3, VRING_PACKED_EVENT_FLAG_DESC, 0x8002, true},
    {8, 0, 1, 1, 3, VRING_PACKED_EVENT_FLAG_DESC, 0x8004, false},
    /* Across the ring end: slots 6, 7 (counter 1) and 0 (counter 0). */
    {8, 6, 0, 3, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x8005, false},
    {8, 6, 0, 3, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x8006, true},
    {8, 6, 0, 3, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x8007, true},
    {8, 6, 0, 3, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x0000, true},
    {8, 6, 0, 3, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x0001, false},
    {8, 6, 0, 3, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x0006, false},
    {8, 6, 0, 1, 3, VRING_PACKED_EVENT_FLAG_DESC, 0x0000, true},
    /* Counter 0 lap. */
    {8, 8, 0, 1, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x0000, true},
    {8, 8, 0, 1, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x8000, false},
    {8, 14, 1, 2, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x8000, true},
    {8, 14, 1, 2, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x0007, true},
    {8, 14, 1, 2, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x0006, false},
    /* A ring of 5. */
    {5, 4, 0, 2, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x8004, true},
    {5, 4, 0, 2, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x0000, true},
    {5, 4, 0, 2, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x0001, false},
    {5, 4, 0, 2, 1, VRING_PACKED_EVENT_FLAG_DESC, 0x8003, false},
    /* ENABLE and DISABLE keep their meaning with EVENT_IDX. */
    {8, 0, 0, 1, 1, VRING_PACKED_EVENT_FLAG_ENABLE, 0x8005, true},
    {8, 0, 0, 1, 1, VRING_PACKED_EVENT_FLAG_DISABLE, 0x8000, false},
    {8, 0, 0, 1, 1, 0x3, 0x8005, true},
};

START_TEST(kick_needed_event_idx)
{
    Fix f;
    const VcSg sg[] = {{MEM_GPA + 0x80000, 8}, {MEM_GPA + 0x80100, 8}, {MEM_GPA + 0x80200, 8}};
    unsigned n = 0;

    fix_init(&f, event_cases[_i].num, VC_VQ_EVENT_IDX, 0);
    vc_vq_reset(f.vq, event_cases[_i].start);
    dev_init(&f.dev, f.vq);
    for (unsigned i = 0; i < event_cases[_i].first; i++, n++) {
        ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(n), 0), 0);
    }
    if (event_cases[_i].first) {
        vc_vq_publish(f.vq);
        ck_assert(vc_vq_kick_needed(f.vq));
    }
    dev_set_event(&f.dev, event_cases[_i].flags, event_cases[_i].off_wrap);
    for (unsigned i = 0; i < event_cases[_i].batch; i++, n++) {
        ck_assert_int_ge(vc_vq_add(f.vq, sg, event_cases[_i].len, NULL, 0, TOKEN(n), 0), 0);
    }
    vc_vq_publish(f.vq);
    ck_assert_uint_eq(vc_vq_avail_event(f.vq), event_cases[_i].off_wrap);
    ck_assert_msg(vc_vq_kick_needed(f.vq) == event_cases[_i].kick,
                  "num %u start %u, %u then %u x %u slots, flags %u off_wrap 0x%04x: want kick=%d",
                  event_cases[_i].num, event_cases[_i].start, event_cases[_i].first,
                  event_cases[_i].batch, event_cases[_i].len, event_cases[_i].flags,
                  event_cases[_i].off_wrap, event_cases[_i].kick);
    ck_assert_uint_eq(f.vq->kicked_idx, f.vq->avail_idx);
    /* Nothing new since: no kick in DESC mode. */
    if (event_cases[_i].flags == VRING_PACKED_EVENT_FLAG_DESC) {
        ck_assert(!vc_vq_kick_needed(f.vq));
    }
    fix_fini(&f);
}
END_TEST

/* More than a lap made available between two kick checks: every event slot was passed. */
START_TEST(kick_needed_event_idx_past_a_lap)
{
    Fix f;
    const VcSg sg[] = {{MEM_GPA + 0x80000, 8}};
    static const struct {
        uint16_t off_wrap;
        bool kick;
    } cases[] = {
        {0x8003, true}, {0x8000, true}, {0x0003, true}, {0x0004, false}, {0x0005, false},
    };
    Chain c;

    for (unsigned k = 0; k < G_N_ELEMENTS(cases); k++) {
        fix_init(&f, 8, VC_VQ_EVENT_IDX, 0);
        dev_set_event(&f.dev, VRING_PACKED_EVENT_FLAG_DESC, cases[k].off_wrap);
        for (unsigned i = 0; i < 12; i++) {
            ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(i), 0), 0);
            vc_vq_publish(f.vq);
            ck_assert(dev_pop(&f.dev, &c));
            dev_push(&f.dev, c.id, 0, 1);
            reap_one(&f, TOKEN(i), 0);
        }
        /* Twelve slots from position 0: now at position 4 with counter 0. */
        ck_assert_uint_eq(f.vq->avail_idx, 0x0004);
        ck_assert_msg(vc_vq_kick_needed(f.vq) == cases[k].kick, "off_wrap 0x%04x",
                      cases[k].off_wrap);
        fix_fini(&f);
    }
}
END_TEST

static void
driver_event(const Fix *f, uint16_t *flags, uint16_t *off_wrap)
{
    *flags = le16toh(drv_area(&f->dev)->flags);
    *off_wrap = le16toh(drv_area(&f->dev)->off_wrap);
}

START_TEST(enable_calls)
{
    Fix f;
    const VcSg sg[] = {{MEM_GPA + 0x80000, 8}};
    uint16_t fl, ow;
    Chain c;

    /* Without EVENT_IDX: ENABLE / DISABLE, the offset is left alone. */
    fix_init(&f, 8, 0, 0);
    driver_event(&f, &fl, &ow);
    ck_assert_uint_eq(fl, VRING_PACKED_EVENT_FLAG_ENABLE);
    ck_assert_uint_eq(ow, 0);
    vc_vq_enable_calls(f.vq, false);
    driver_event(&f, &fl, &ow);
    ck_assert_uint_eq(fl, VRING_PACKED_EVENT_FLAG_DISABLE);
    ck_assert_uint_eq(ow, 0);
    vc_vq_enable_calls(f.vq, true);
    driver_event(&f, &fl, &ow);
    ck_assert_uint_eq(fl, VRING_PACKED_EVENT_FLAG_ENABLE);
    ck_assert_uint_eq(ow, 0);
    fix_fini(&f);

    /* With EVENT_IDX: DESC at the next slot to reap; off is DISABLE. */
    fix_init(&f, 4, VC_VQ_EVENT_IDX, 0);
    for (unsigned i = 0; i < 3; i++) {
        ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(i), 0), 0);
    }
    vc_vq_publish(f.vq);
    for (unsigned i = 0; i < 3; i++) {
        ck_assert(dev_pop(&f.dev, &c));
        dev_push(&f.dev, c.id, 0, 1);
        reap_one(&f, TOKEN(i), 0);
    }
    ck_assert_uint_eq(f.vq->last_used, 0x8003);
    vc_vq_enable_calls(f.vq, true);
    driver_event(&f, &fl, &ow);
    ck_assert_uint_eq(fl, VRING_PACKED_EVENT_FLAG_DESC);
    ck_assert_uint_eq(ow, 0x8003);
    vc_vq_enable_calls(f.vq, false);
    driver_event(&f, &fl, &ow);
    ck_assert_uint_eq(fl, VRING_PACKED_EVENT_FLAG_DISABLE);
    ck_assert_uint_eq(ow, 0x8003);
    vc_vq_set_used_event(f.vq, 0x1234);
    driver_event(&f, &fl, &ow);
    ck_assert_uint_eq(ow, 0x1234);
    ck_assert_uint_eq(fl, VRING_PACKED_EVENT_FLAG_DISABLE);
    /* Past the ring end the offset carries counter 0. */
    for (unsigned i = 3; i < 5; i++) {
        ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(i), 0), 0);
        vc_vq_publish(f.vq);
        ck_assert(dev_pop(&f.dev, &c));
        dev_push(&f.dev, c.id, 0, 1);
        reap_one(&f, TOKEN(i), 0);
    }
    vc_vq_enable_calls(f.vq, true);
    driver_event(&f, &fl, &ow);
    ck_assert_uint_eq(fl, VRING_PACKED_EVENT_FLAG_DESC);
    ck_assert_uint_eq(ow, 0x0001);
    fix_fini(&f);
}
END_TEST

static void
read_u64(int fd, uint64_t want)
{
    uint64_t v = 0;

    ck_assert_int_eq(read(fd, &v, sizeof(v)), 8);
    ck_assert_uint_eq(v, want);
}

START_TEST(notify_publishes_and_kicks)
{
    Fix f;
    const VcSg sg[] = {{MEM_GPA + 0x80000, 8}};
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    uint64_t v;
    Chain c;

    ck_assert_int_ge(efd, 0);
    fix_init(&f, 8, VC_VQ_EVENT_IDX, 0);
    vc_vq_set_fds(f.vq, efd, -1, -1);
    ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(0), 0), 0);
    ck_assert_int_eq(vc_vq_notify(f.vq), 1);
    ck_assert(dev_pop(&f.dev, &c));
    read_u64(efd, 1);
    /* The device asks for a kick at slot 5 only. */
    dev_set_event(&f.dev, VRING_PACKED_EVENT_FLAG_DESC, 0x8005);
    ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(1), 0), 0);
    ck_assert_int_eq(vc_vq_notify(f.vq), 0);
    ck_assert(dev_pop(&f.dev, &c));
    ck_assert_int_eq(read(efd, &v, sizeof(v)), -1);
    ck_assert_uint_eq(f.vq->n_kicks_skipped, 1);
    for (unsigned i = 2; i < 6; i++) {
        ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(i), 0), 0);
    }
    ck_assert_int_eq(vc_vq_notify(f.vq), 1);
    read_u64(efd, 1);
    ck_assert_uint_eq(f.vq->n_kicks, 2);
    fix_fini(&f);
    close(efd);
}
END_TEST

typedef struct TapLog {
    unsigned n;
    VcVqEvent ev[16];
    uint32_t head[16];
    uint32_t len[16];
} TapLog;

static void
tap(void *opaque, VcVq *vq, VcVqEvent ev, uint32_t head, uint32_t len)
{
    TapLog *t = opaque;

    ck_assert_uint_lt(t->n, 16);
    t->ev[t->n] = ev;
    t->head[t->n] = head;
    t->len[t->n] = len;
    t->n++;
}

START_TEST(datapath_tap)
{
    Fix f;
    Chain c;
    const VcSg out[] = {{MEM_GPA + 0x80000, 10}};
    const VcSg in[] = {{MEM_GPA + 0x81000, 20}};
    int kfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int cfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    TapLog t = {0};
    void *tok;
    uint32_t len;
    uint64_t one = 1;

    fix_init(&f, 8, 0, 0);
    vc_vq_set_fds(f.vq, kfd, cfd, -1);
    vc_vq_set_tap(f.vq, tap, &t);
    ck_assert_int_eq(vc_vq_add(f.vq, out, 1, in, 1, TOKEN(0), 0), 0);
    ck_assert_int_eq(vc_vq_notify(f.vq), 1);
    ck_assert(dev_pop(&f.dev, &c));
    dev_push(&f.dev, c.id, 20, c.nslots);
    ck_assert_int_eq(write(cfd, &one, 8), 8);
    ck_assert_int_eq(vc_vq_wait_call(f.vq, 10000), 1);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, NULL), 1);
    ck_assert_uint_eq(t.n, 4);
    ck_assert_int_eq(t.ev[0], VC_VQ_EV_AVAIL);
    ck_assert_uint_eq(t.head[0], 0);
    ck_assert_uint_eq(t.len[0], 30);
    /* A kick reports the next avail slot with its wrap counter. */
    ck_assert_int_eq(t.ev[1], VC_VQ_EV_KICK);
    ck_assert_uint_eq(t.head[1], 0x8002);
    ck_assert_int_eq(t.ev[2], VC_VQ_EV_CALL);
    ck_assert_int_eq(t.ev[3], VC_VQ_EV_USED);
    ck_assert_uint_eq(t.head[3], 0);
    ck_assert_uint_eq(t.len[3], 20);
    vc_vq_set_tap(f.vq, NULL, NULL);
    ck_assert_int_eq(vc_vq_add(f.vq, out, 1, in, 1, TOKEN(1), 0), 0);
    ck_assert_uint_eq(t.n, 4);
    fix_fini(&f);
    close(kfd);
    close(cfd);
}
END_TEST

/* vc_vq_used_idx() walks used descriptors without reaping; vc_vq_used_elem() reads slots. */
START_TEST(used_idx_walk)
{
    Fix f;
    Chain a, b, c, d;
    const VcSg sg[] = {{MEM_GPA + 0x80000, 8}, {MEM_GPA + 0x80100, 8}, {MEM_GPA + 0x80200, 8}};
    uint32_t id, len;
    void *tok;

    fix_init(&f, 8, 0, 0);
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 2, NULL, 0, TOKEN(0), 0), 0);   /* slots 0-1 */
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(1), 0), 1);   /* slot 2 */
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 3, NULL, 0, TOKEN(2), 0), 2);   /* slots 3-5 */
    vc_vq_publish(f.vq);
    ck_assert(dev_pop(&f.dev, &a));
    ck_assert(dev_pop(&f.dev, &b));
    ck_assert(dev_pop(&f.dev, &c));
    /* Out of order: b then c. */
    dev_push(&f.dev, b.id, 11, b.nslots);
    dev_push(&f.dev, c.id, 22, c.nslots);
    ck_assert_uint_eq(vc_vq_used_idx(f.vq), 0x8004);
    ck_assert_uint_eq(f.vq->in_flight, 3);
    vc_vq_used_elem(f.vq, 0x8000, &id, &len);
    ck_assert_uint_eq(id, 1);
    ck_assert_uint_eq(len, 11);
    vc_vq_used_elem(f.vq, 1, &id, &len);
    ck_assert_uint_eq(id, 2);
    ck_assert_uint_eq(len, 22);
    vc_vq_used_elem(f.vq, 9, &id, &len);
    ck_assert_uint_eq(id, 2);
    dev_push(&f.dev, a.id, 33, a.nslots);
    ck_assert_uint_eq(vc_vq_used_idx(f.vq), 0x8006);
    /* A used descriptor with an id not in flight stops the walk. */
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(3), 0), 3);   /* slot 6 */
    vc_vq_publish(f.vq);
    ck_assert(dev_pop(&f.dev, &d));
    dev_push(&f.dev, 7, 0, 1);
    ck_assert_uint_eq(vc_vq_used_idx(f.vq), 0x8006);
    reap_one(&f, TOKEN(1), 11);
    reap_one(&f, TOKEN(2), 22);
    reap_one(&f, TOKEN(0), 33);
    ck_assert_uint_eq(vc_vq_used_idx(f.vq), 0x8006);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, NULL), -EPROTO);
    ck_assert_uint_eq(f.vq->last_used, 0x8007);
    /* The device's next used slot is 7 (it skipped one for the bad id): the ring end. */
    dev_push(&f.dev, d.id, 44, 1);
    ck_assert_uint_eq(vc_vq_used_idx(f.vq), 0x0000);
    reap_one(&f, TOKEN(3), 44);
    ck_assert_uint_eq(f.vq->last_used, 0x0000);
    fix_fini(&f);
}
END_TEST

/* --- A device on another thread ---------------------------------------------------------- */

/*
 * The device polls the ring while the driver adds, publishes and reaps: it must never see a
 * chain before all of it is written. Each chain carries its sequence number in every len and
 * its length in the number of slots; the device answers with a len made of both.
 */
typedef struct ThreadDev {
    Dev dev;
    struct vring_packed_desc *ring;
    unsigned total;
    int stop;
    unsigned errors;
    char first_error[128];
} ThreadDev;

/* dev_push() without the ck_assert of dev_hva(): Check cannot fail a test from a thread. */
static void
tdev_push(ThreadDev *t, uint16_t id, uint32_t len, unsigned nslots)
{
    struct vring_packed_desc *s = &t->ring[t->dev.used & 0x7fff];

    s->id = htole16(id);
    s->len = htole32(len);
    __atomic_store_n(&s->flags, htole16((t->dev.used & WRAP) ? (F_AVAIL | F_USED) : 0),
                     __ATOMIC_RELEASE);
    t->dev.used = adv(t->dev.num, t->dev.used, nslots);
}

static void
tdev_error(ThreadDev *t, const char *what, unsigned a, unsigned b)
{
    if (t->errors++ == 0) {
        g_snprintf(t->first_error, sizeof(t->first_error), "%s (%u, %u)", what, a, b);
    }
}

static void *
tdev_main(void *opaque)
{
    ThreadDev *t = opaque;
    Dev *d = &t->dev;
    struct vring_packed_desc *ring = t->ring;
    unsigned served = 0;
    uint16_t held_id = 0, held_len = 0;
    uint32_t held_val = 0;
    bool held = false;

    while (served < t->total && !__atomic_load_n(&t->stop, __ATOMIC_RELAXED)) {
        uint16_t at = d->avail, f;
        bool w = (at & WRAP) != 0;
        uint32_t seq, n = 0;
        uint16_t id;

        f = le16toh(__atomic_load_n(&ring[at & 0x7fff].flags, __ATOMIC_ACQUIRE));
        if (!!(f & F_AVAIL) != w || !!(f & F_USED) == w) {
            if (held) {
                /* Nothing new: complete what was held back. */
                tdev_push(t, held_id, held_val, held_len);
                held = false;
                served++;
            }
            sched_yield();
            continue;
        }
        seq = le32toh(ring[at & 0x7fff].len);
        for (;;) {
            const struct vring_packed_desc *s = &ring[at & 0x7fff];
            f = le16toh(s->flags);
            w = (at & WRAP) != 0;
            if (!!(f & F_AVAIL) != w || !!(f & F_USED) == w) {
                tdev_error(t, "slot of a chain not available", at, f);
            }
            if (le32toh(s->len) != seq) {
                tdev_error(t, "slot len is not the chain's", le32toh(s->len), seq);
            }
            id = le16toh(s->id);
            n++;
            at = adv(d->num, at, 1);
            if (!(f & VRING_DESC_F_NEXT) || n > d->num) {
                break;
            }
        }
        if (n != seq % 3 + 1) {
            tdev_error(t, "chain length", n, seq);
        }
        d->avail = at;
        /* Every other chain completes after the next one (out of order). */
        if (held) {
            tdev_push(t, id, seq * 4 + n, n);
            tdev_push(t, held_id, held_val, held_len);
            held = false;
            served += 2;
        } else if (seq & 1) {
            held = true;
            held_id = id;
            held_val = seq * 4 + n;
            held_len = (uint16_t)n;
        } else {
            tdev_push(t, id, seq * 4 + n, n);
            served++;
        }
    }
    return NULL;
}

START_TEST(threaded_device)
{
    Fix f;
    ThreadDev t;
    pthread_t th;
    unsigned total = getenv("VC_UNDER_VALGRIND") ? 2000 : 100000;
    unsigned sent = 0, done = 0;
    VcSg sg[3];

    fix_init(&f, 61, 0, 0);
    memset(&t, 0, sizeof(t));
    t.dev = f.dev;
    t.ring = dev_ring(&f.dev);
    t.total = total;
    ck_assert_int_eq(pthread_create(&th, NULL, tdev_main, &t), 0);
    while (done < total) {
        unsigned added = 0;
        while (sent < total) {
            unsigned n = sent % 3 + 1;
            int r;
            for (unsigned i = 0; i < n; i++) {
                sg[i] = (VcSg){MEM_GPA + 0x80000 + i * 0x1000, sent};
            }
            r = vc_vq_add(f.vq, sg, n - 1, sg + n - 1, 1, TOKEN(sent), 0);
            if (r == -ENOSPC) {
                break;
            }
            ck_assert_int_ge(r, 0);
            sent++;
            if (++added == 5) {
                break;
            }
        }
        vc_vq_publish(f.vq);
        for (;;) {
            void *tok;
            uint32_t len;
            int r = vc_vq_pop_used(f.vq, &tok, &len, NULL);
            unsigned seq;
            if (r == 0) {
                break;
            }
            ck_assert_int_eq(r, 1);
            seq = (unsigned)((uintptr_t)tok - 0x1000);
            ck_assert_uint_lt(seq, sent);
            ck_assert_uint_eq(len, seq * 4 + seq % 3 + 1);
            done++;
        }
        if (t.errors) {
            break;
        }
        sched_yield();
    }
    __atomic_store_n(&t.stop, 1, __ATOMIC_RELAXED);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_msg(t.errors == 0, "device: %u errors, first: %s", t.errors, t.first_error);
    ck_assert_uint_eq(done, total);
    ck_assert_uint_eq(f.vq->in_flight, 0);
    ck_assert_uint_eq(f.vq->num_free, 61);
    fix_fini(&f);
}
END_TEST

static Suite *
vq_packed_suite(void)
{
    Suite *s = suite_create("vq-packed");
    TCase *tc;

    tc = tcase_create("layout");
    tcase_add_test(tc, new_rejects_bad_sizes);
    tcase_add_test(tc, largest_ring);
    tcase_add_test(tc, layout_and_ranges);
    tcase_add_test(tc, fresh_state);
    suite_add_tcase(s, tc);

    tc = tcase_create("chains");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, direct_chain);
    tcase_add_test(tc, one_sided_chains);
    tcase_add_test(tc, indirect_chain);
    tcase_add_test(tc, indirect_fills_ring);
    tcase_add_test(tc, add_rejects_bad_chains);
    tcase_add_test(tc, ring_full);
    tcase_add_test(tc, chain_straddles_ring_end);
    tcase_add_loop_test(tc, out_of_order, 0, 6);
    tcase_add_loop_test(tc, wrap_many_rounds, 0, G_N_ELEMENTS(wrap_sizes));
    tcase_add_test(tc, pop_used_bad_id);
    tcase_add_test(tc, pop_used_duplicate_id);
    tcase_add_test(tc, pop_used_needs_both_bits);
    tcase_add_test(tc, used_idx_walk);
    tcase_add_test(tc, reset_forgets_chains);
    suite_add_tcase(s, tc);

    tc = tcase_create("base");
    tcase_add_loop_test(tc, base_round_trip, 0, G_N_ELEMENTS(base_cases));
    tcase_add_test(tc, reset_idx_encoding);
    tcase_add_test(tc, base_split_layout);
    suite_add_tcase(s, tc);

    tc = tcase_create("notify");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, kick_needed_no_event_idx);
    tcase_add_loop_test(tc, kick_needed_event_idx, 0, G_N_ELEMENTS(event_cases));
    tcase_add_test(tc, kick_needed_event_idx_past_a_lap);
    tcase_add_test(tc, enable_calls);
    tcase_add_test(tc, notify_publishes_and_kicks);
    tcase_add_test(tc, datapath_tap);
    suite_add_tcase(s, tc);

    tc = tcase_create("concurrent");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, threaded_device);
    suite_add_tcase(s, tc);

    return s;
}

int
main(void)
{
    return vc_test_run(vq_packed_suite());
}
