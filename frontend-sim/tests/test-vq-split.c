/*
 * test-vq-split.c -- the driver side of the split virtqueue (vc-vq-split.c)
 * against a tiny in-test device that reads the avail ring and writes used
 * entries straight into guest memory, as a back-end daemon would.
 */
#include <errno.h>
#include <fcntl.h>
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

/* --- The device ------------------------------------------------------------------------ */

typedef struct Dev {
    VcGmem *gm;
    uint64_t desc_gpa, avail_gpa, used_gpa;
    uint16_t num;
    uint16_t last_avail;   /* next avail entry to consume */
    uint16_t used_idx;     /* next used entry to write */
} Dev;

/* One chain as the device sees it, flattened through an indirect table. */
typedef struct Chain {
    uint16_t head;
    bool indirect;
    unsigned n;
    struct vring_desc d[64];
    uint16_t main_idx[64];   /* main-table index of each descriptor of a direct chain */
} Chain;

static void
dev_init(Dev *d, const VcVq *vq)
{
    memset(d, 0, sizeof(*d));
    d->gm = vq->gm;
    d->desc_gpa = vq->desc_gpa;
    d->avail_gpa = vq->avail_gpa;
    d->used_gpa = vq->used_gpa;
    d->num = vq->num;
    /* As after SET_VRING_BASE: start where the driver's rings start. */
    d->last_avail = d->used_idx = vq->avail_idx;
}

static void *
dev_hva(const Dev *d, uint64_t gpa)
{
    void *p = vc_gmem_to_hva(d->gm, gpa, NULL);

    ck_assert_msg(p != NULL, "device: gpa 0x%" G_GINT64_MODIFIER "x is not guest memory", gpa);
    return p;
}

static struct vring_avail *
dev_avail(const Dev *d)
{
    return dev_hva(d, d->avail_gpa);
}

static struct vring_used *
dev_used(const Dev *d)
{
    return dev_hva(d, d->used_gpa);
}

static uint16_t
dev_avail_idx(const Dev *d)
{
    return le16toh(__atomic_load_n(&dev_avail(d)->idx, __ATOMIC_ACQUIRE));
}

/* Takes the next available chain. Returns false when the avail ring is empty. */
static bool
dev_pop(Dev *d, Chain *c)
{
    struct vring_desc *table = dev_hva(d, d->desc_gpa);
    uint16_t i;

    if (dev_avail_idx(d) == d->last_avail) {
        return false;
    }
    memset(c, 0, sizeof(*c));
    c->head = le16toh(dev_avail(d)->ring[d->last_avail % d->num]);
    d->last_avail++;
    ck_assert_uint_lt(c->head, d->num);
    if (le16toh(table[c->head].flags) & VRING_DESC_F_INDIRECT) {
        struct vring_desc *t = dev_hva(d, le64toh(table[c->head].addr));
        unsigned max = le32toh(table[c->head].len) / sizeof(struct vring_desc);
        c->indirect = true;
        ck_assert_uint_eq(le32toh(table[c->head].len) % sizeof(struct vring_desc), 0);
        for (i = 0;; i = le16toh(t[i].next)) {
            ck_assert_uint_lt(i, max);
            ck_assert_uint_lt(c->n, G_N_ELEMENTS(c->d));
            c->d[c->n++] = t[i];
            if (!(le16toh(t[i].flags) & VRING_DESC_F_NEXT)) {
                break;
            }
        }
        return true;
    }
    for (i = c->head;; i = le16toh(table[i].next)) {
        ck_assert_uint_lt(i, d->num);
        ck_assert_uint_lt(c->n, d->num);
        c->main_idx[c->n] = i;
        c->d[c->n++] = table[i];
        if (!(le16toh(table[i].flags) & VRING_DESC_F_NEXT)) {
            break;
        }
    }
    return true;
}

/* Writes one used entry and publishes it. */
static void
dev_push(Dev *d, uint32_t id, uint32_t len)
{
    struct vring_used *u = dev_used(d);

    u->ring[d->used_idx % d->num].id = htole32(id);
    u->ring[d->used_idx % d->num].len = htole32(len);
    d->used_idx++;
    /* The element must be visible before the index (pairs with the driver's acquire). */
    __atomic_store_n(&u->idx, htole16(d->used_idx), __ATOMIC_RELEASE);
}

static void
dev_set_avail_event(Dev *d, uint16_t v)
{
    uint16_t le = htole16(v);

    /* avail_event sits right after used->ring[num - 1]. */
    memcpy((uint8_t *)dev_used(d) + 4 + 8 * (size_t)d->num, &le, sizeof(le));
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
    f->vq = vc_vq_new_split(f->gm, 3, num, flags, indirect_max, &err);
    ck_assert_msg(f->vq != NULL, "%s", err ? err->message : "?");
    dev_init(&f->dev, f->vq);
}

static void
fix_fini(Fix *f)
{
    vc_vq_free(f->vq);
    vc_gmem_free(f->gm);
}

/* A fake token for chain @i: only its identity matters. */
#define TOKEN(i) ((void *)(uintptr_t)(0x1000 + (i)))

/* --- Construction ------------------------------------------------------------------------- */

START_TEST(new_rejects_bad_sizes)
{
    g_autoptr(VcGmem) gm = vc_gmem_new();
    static const uint16_t bad[] = {0, 3, 6, 100, 65535};

    ck_assert_int_eq(vc_gmem_add_simple(gm, 0, 4 * PAGE, false), 0);
    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;
        ck_assert_ptr_null(vc_vq_new_split(gm, 0, bad[i], 0, 0, &err));
        ck_assert(g_error_matches(err, VC_SIM_ERROR, VC_ERROR_USAGE));
    }
    /* 32768 is the largest legal ring; it needs more than 16 KiB. */
    {
        g_autoptr(GError) err = NULL;
        ck_assert_ptr_null(vc_vq_new_split(gm, 0, 32768, 0, 0, &err));
        ck_assert(g_error_matches(err, VC_SIM_ERROR, VC_ERROR_RESOURCE));
    }
    {
        g_autoptr(GError) err = NULL;
        g_autoptr(VcVq) vq = vc_vq_new_split(gm, 0, 1, 0, 0, &err);
        ck_assert_ptr_nonnull(vq);
        ck_assert_uint_eq(vq->num_free, 1);
    }
}
END_TEST

START_TEST(layout_and_ranges)
{
    Fix f;
    VcRange r[4];
    struct vhost_vring_addr addr;

    fix_init(&f, 256, VC_VQ_INDIRECT, 4);
    ck_assert_uint_eq(f.vq->num, 256);
    ck_assert_uint_eq(f.vq->index, 3);
    ck_assert_int_eq(f.vq->kick_fd, -1);
    ck_assert_int_eq(f.vq->call_fd, -1);
    /* Each part page aligned, in guest memory. */
    ck_assert_uint_eq(f.vq->desc_gpa, MEM_GPA);
    ck_assert_uint_eq(f.vq->avail_gpa % PAGE, 0);
    ck_assert_uint_eq(f.vq->used_gpa % PAGE, 0);
    ck_assert_uint_eq(f.vq->indirect_gpa % PAGE, 0);
    ck_assert_ptr_eq(f.vq->desc, vc_gmem_to_hva(f.gm, f.vq->desc_gpa, NULL));
    ck_assert_ptr_eq(f.vq->avail, vc_gmem_to_hva(f.gm, f.vq->avail_gpa, NULL));
    ck_assert_ptr_eq(f.vq->used, vc_gmem_to_hva(f.gm, f.vq->used_gpa, NULL));
    ck_assert_uint_eq(vc_vq_ranges(f.vq, r), 4);
    ck_assert_uint_eq(r[0].gpa, f.vq->desc_gpa);
    ck_assert_uint_eq(r[0].len, 16 * 256);
    ck_assert_uint_eq(r[1].gpa, f.vq->avail_gpa);
    ck_assert_uint_eq(r[1].len, 4 + 2 * 256 + 2);
    ck_assert_uint_eq(r[2].gpa, f.vq->used_gpa);
    ck_assert_uint_eq(r[2].len, 4 + 8 * 256 + 2);
    ck_assert_uint_eq(r[3].gpa, f.vq->indirect_gpa);
    ck_assert_uint_eq(r[3].len, 256 * 4 * 16);
    /* Zeroed rings: nothing in the ring is guard pattern, and the ranges cover it all. */
    {
        unsigned mf;
        uint64_t off;
        ck_assert(!vc_gmem_find_stray(f.gm, r, 4, &mf, &off));
        ck_assert(vc_gmem_find_stray(f.gm, r, 3, &mf, &off));
        ck_assert_uint_eq(off, f.vq->indirect_gpa - MEM_GPA);
    }
    /* SET_VRING_ADDR carries user addresses: gpa + the gmem offset; the log address is a gpa. */
    vc_vq_addr(f.vq, &addr);
    ck_assert_uint_eq(addr.index, 3);
    ck_assert_uint_eq(addr.flags, 0);
    ck_assert_uint_eq(addr.desc_user_addr, f.vq->desc_gpa + VC_GMEM_UVA_OFFSET);
    ck_assert_uint_eq(addr.avail_user_addr, f.vq->avail_gpa + VC_GMEM_UVA_OFFSET);
    ck_assert_uint_eq(addr.used_user_addr, f.vq->used_gpa + VC_GMEM_UVA_OFFSET);
    ck_assert_uint_eq(addr.log_guest_addr, f.vq->used_gpa);
    fix_fini(&f);
}
END_TEST

START_TEST(ranges_without_indirect)
{
    Fix f;
    VcRange r[4];

    fix_init(&f, 8, 0, 0);
    ck_assert_uint_eq(vc_vq_ranges(f.vq, r), 3);
    ck_assert_ptr_null(f.vq->indirect);
    ck_assert_uint_eq(r[0].len, 16 * 8);
    ck_assert_uint_eq(r[1].len, 4 + 16 + 2);
    ck_assert_uint_eq(r[2].len, 4 + 64 + 2);
    fix_fini(&f);
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
    int h;

    fix_init(&f, 8, 0, 0);
    h = vc_vq_add(f.vq, out, 2, in, 1, TOKEN(1), 0);
    ck_assert_int_eq(h, 0);
    ck_assert_uint_eq(f.vq->num_free, 5);
    ck_assert_uint_eq(f.vq->in_flight, 1);
    ck_assert_uint_eq(f.vq->heads[0].rlen, 300);
    ck_assert_uint_eq(f.vq->heads[0].wlen, 300);
    /* Not visible before publish. */
    ck_assert_uint_eq(dev_avail_idx(&f.dev), 0);
    ck_assert(!dev_pop(&f.dev, &c));
    vc_vq_publish(f.vq);
    ck_assert_uint_eq(dev_avail_idx(&f.dev), 1);
    ck_assert(dev_pop(&f.dev, &c));
    ck_assert_uint_eq(c.head, 0);
    ck_assert(!c.indirect);
    ck_assert_uint_eq(c.n, 3);
    ck_assert_uint_eq(le64toh(c.d[0].addr), MEM_GPA + 0x80000);
    ck_assert_uint_eq(le32toh(c.d[0].len), 100);
    ck_assert_uint_eq(le16toh(c.d[0].flags), VRING_DESC_F_NEXT);
    ck_assert_uint_eq(le64toh(c.d[1].addr), MEM_GPA + 0x81000);
    ck_assert_uint_eq(le32toh(c.d[1].len), 200);
    ck_assert_uint_eq(le16toh(c.d[1].flags), VRING_DESC_F_NEXT);
    ck_assert_uint_eq(le64toh(c.d[2].addr), MEM_GPA + 0x82000);
    ck_assert_uint_eq(le32toh(c.d[2].len), 300);
    ck_assert_uint_eq(le16toh(c.d[2].flags), VRING_DESC_F_WRITE);
    /* Three distinct descriptors. */
    ck_assert_uint_ne(c.main_idx[0], c.main_idx[1]);
    ck_assert_uint_ne(c.main_idx[1], c.main_idx[2]);
    ck_assert_uint_ne(c.main_idx[0], c.main_idx[2]);

    ck_assert(!vc_vq_more_used(f.vq));
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, &head), 0);
    dev_push(&f.dev, c.head, 123);
    ck_assert(vc_vq_more_used(f.vq));
    ck_assert_uint_eq(vc_vq_used_idx(f.vq), 1);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, &head), 1);
    ck_assert_ptr_eq(tok, TOKEN(1));
    ck_assert_uint_eq(len, 123);
    ck_assert_uint_eq(head, 0);
    ck_assert_uint_eq(f.vq->num_free, 8);
    ck_assert_uint_eq(f.vq->in_flight, 0);
    ck_assert_uint_eq(f.vq->n_added, 1);
    ck_assert_uint_eq(f.vq->n_used, 1);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, NULL), 0);
    ck_assert(!vc_vq_more_used(f.vq));
    fix_fini(&f);
}
END_TEST

/* Device-readable only and device-writable only chains. */
START_TEST(one_sided_chains)
{
    Fix f;
    Chain c;
    const VcSg sg[] = {{MEM_GPA + 0x80000, 1}, {MEM_GPA + 0x80010, 2}};

    fix_init(&f, 8, 0, 0);
    ck_assert_int_ge(vc_vq_add(f.vq, sg, 2, NULL, 0, TOKEN(1), 0), 0);
    ck_assert_int_ge(vc_vq_add(f.vq, NULL, 0, sg, 1, TOKEN(2), 0), 0);
    vc_vq_publish(f.vq);
    ck_assert(dev_pop(&f.dev, &c));
    ck_assert_uint_eq(c.n, 2);
    ck_assert_uint_eq(le16toh(c.d[0].flags), VRING_DESC_F_NEXT);
    ck_assert_uint_eq(le16toh(c.d[1].flags), 0);
    ck_assert(dev_pop(&f.dev, &c));
    ck_assert_uint_eq(c.n, 1);
    ck_assert_uint_eq(le16toh(c.d[0].flags), VRING_DESC_F_WRITE);
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
    void *tok;
    uint32_t len, head;
    int h;

    fix_init(&f, 8, VC_VQ_INDIRECT, 4);
    h = vc_vq_add(f.vq, out, 1, in, 2, TOKEN(7), VC_ADD_INDIRECT);
    ck_assert_int_ge(h, 0);
    /* One main-table descriptor for the whole chain. */
    ck_assert_uint_eq(f.vq->num_free, 7);
    ck_assert_uint_eq(le16toh(f.vq->desc[h].flags), VRING_DESC_F_INDIRECT);
    ck_assert_uint_eq(le32toh(f.vq->desc[h].len), 3 * sizeof(struct vring_desc));
    ck_assert_uint_eq(le64toh(f.vq->desc[h].addr),
                      f.vq->indirect_gpa + (uint64_t)h * 4 * sizeof(struct vring_desc));
    vc_vq_publish(f.vq);
    ck_assert(dev_pop(&f.dev, &c));
    ck_assert(c.indirect);
    ck_assert_uint_eq(c.head, (unsigned)h);
    ck_assert_uint_eq(c.n, 3);
    ck_assert_uint_eq(le64toh(c.d[0].addr), MEM_GPA + 0x80000);
    ck_assert_uint_eq(le32toh(c.d[0].len), 16);
    ck_assert_uint_eq(le16toh(c.d[0].flags), VRING_DESC_F_NEXT);
    ck_assert_uint_eq(le16toh(c.d[0].next), 1);
    ck_assert_uint_eq(le64toh(c.d[1].addr), MEM_GPA + 0x81000);
    ck_assert_uint_eq(le32toh(c.d[1].len), 512);
    ck_assert_uint_eq(le16toh(c.d[1].flags), VRING_DESC_F_NEXT | VRING_DESC_F_WRITE);
    ck_assert_uint_eq(le16toh(c.d[1].next), 2);
    ck_assert_uint_eq(le64toh(c.d[2].addr), MEM_GPA + 0x82000);
    ck_assert_uint_eq(le32toh(c.d[2].len), 1);
    ck_assert_uint_eq(le16toh(c.d[2].flags), VRING_DESC_F_WRITE);
    dev_push(&f.dev, c.head, 513);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, &head), 1);
    ck_assert_ptr_eq(tok, TOKEN(7));
    ck_assert_uint_eq(len, 513);
    ck_assert_uint_eq(head, (unsigned)h);
    ck_assert_uint_eq(f.vq->num_free, 8);
    fix_fini(&f);
}
END_TEST

/* Eight indirect chains fill an 8-entry ring, each with its own table. */
START_TEST(indirect_fills_ring)
{
    Fix f;
    Chain c;
    const VcSg in[] = {{MEM_GPA + 0x90000, 8}, {MEM_GPA + 0x91000, 8}};
    uint64_t seen[8];

    fix_init(&f, 8, VC_VQ_INDIRECT, 2);
    for (unsigned i = 0; i < 8; i++) {
        ck_assert_int_ge(vc_vq_add(f.vq, NULL, 0, in, 2, TOKEN(i), VC_ADD_INDIRECT), 0);
    }
    ck_assert_int_eq(vc_vq_add(f.vq, NULL, 0, in, 1, TOKEN(9), VC_ADD_INDIRECT), -ENOSPC);
    vc_vq_publish(f.vq);
    for (unsigned i = 0; i < 8; i++) {
        ck_assert(dev_pop(&f.dev, &c));
        ck_assert(c.indirect);
        seen[i] = le64toh(f.vq->desc[c.head].addr);
        for (unsigned j = 0; j < i; j++) {
            ck_assert_uint_ne(seen[i], seen[j]);
        }
    }
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
    ck_assert_uint_eq(f.vq->avail_idx, 0);
    fix_fini(&f);

    /* Indirect without VIRTIO_RING_F_INDIRECT_DESC. */
    fix_init(&f, 8, 0, 0);
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(0), VC_ADD_INDIRECT), -EINVAL);
    /* Exactly the ring size is fine. */
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 4, sg, 4, TOKEN(0), 0), 0);
    ck_assert_uint_eq(f.vq->num_free, 0);
    fix_fini(&f);
}
END_TEST

START_TEST(ring_full)
{
    Fix f;
    Chain c;
    const VcSg sg[] = {{MEM_GPA + 0x80000, 8}, {MEM_GPA + 0x80008, 8}, {MEM_GPA + 0x80010, 8}};
    void *tok;
    uint32_t len;

    fix_init(&f, 8, VC_VQ_INDIRECT, 4);
    for (unsigned i = 0; i < 8; i++) {
        ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(i), 0), 0);
    }
    ck_assert_uint_eq(f.vq->num_free, 0);
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(8), 0), -ENOSPC);
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(8), VC_ADD_INDIRECT), -ENOSPC);
    vc_vq_publish(f.vq);
    /* Two completions free two descriptors: a 3-descriptor chain still does not fit. */
    for (unsigned i = 0; i < 2; i++) {
        ck_assert(dev_pop(&f.dev, &c));
        dev_push(&f.dev, c.head, 0);
        ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, NULL), 1);
    }
    ck_assert_uint_eq(f.vq->num_free, 2);
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 2, sg, 1, TOKEN(9), 0), -ENOSPC);
    ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, sg, 1, TOKEN(9), 0), 0);
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(10), 0), -ENOSPC);
    fix_fini(&f);
}
END_TEST

/* Loop index seeds the completion order. */
START_TEST(free_list_any_order)
{
    Fix f;
    static const unsigned lens[] = {1, 2, 3, 4, 2, 1, 3}; /* 16 descriptors */
    Chain chains[G_N_ELEMENTS(lens)];
    unsigned order[G_N_ELEMENTS(lens)];
    bool used_desc[16] = {false};
    VcSg sg[4];
    GRand *rand = g_rand_new_with_seed((guint32)_i);
    bool head_seen[16] = {false};

    for (unsigned i = 0; i < 4; i++) {
        sg[i] = (VcSg){MEM_GPA + 0x80000 + i * 0x100, 0x100};
    }
    fix_init(&f, 16, 0, 0);
    for (unsigned round = 0; round < 3; round++) {
        for (unsigned i = 0; i < G_N_ELEMENTS(lens); i++) {
            ck_assert_int_ge(vc_vq_add(f.vq, sg, lens[i] / 2, sg, lens[i] - lens[i] / 2,
                                       TOKEN(i), 0), 0);
            order[i] = i;
        }
        ck_assert_uint_eq(f.vq->num_free, 0);
        ck_assert_int_eq(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(99), 0), -ENOSPC);
        vc_vq_publish(f.vq);
        /* No descriptor is handed out twice. */
        memset(used_desc, 0, sizeof(used_desc));
        for (unsigned i = 0; i < G_N_ELEMENTS(lens); i++) {
            ck_assert(dev_pop(&f.dev, &chains[i]));
            ck_assert_uint_eq(chains[i].n, lens[i]);
            for (unsigned j = 0; j < chains[i].n; j++) {
                ck_assert_msg(!used_desc[chains[i].main_idx[j]], "descriptor %u in two chains",
                              chains[i].main_idx[j]);
                used_desc[chains[i].main_idx[j]] = true;
            }
        }
        /* Complete in a shuffled order; the driver gets each token back once. */
        for (unsigned i = G_N_ELEMENTS(lens) - 1; i > 0; i--) {
            unsigned j = (unsigned)g_rand_int_range(rand, 0, (gint32)i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (unsigned i = 0; i < G_N_ELEMENTS(lens); i++) {
            void *tok;
            uint32_t len, head;
            dev_push(&f.dev, chains[order[i]].head, order[i]);
            ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, &head), 1);
            ck_assert_ptr_eq(tok, TOKEN(order[i]));
            ck_assert_uint_eq(len, order[i]);
            ck_assert_uint_eq(head, chains[order[i]].head);
        }
        ck_assert_uint_eq(f.vq->num_free, 16);
        ck_assert_uint_eq(f.vq->in_flight, 0);
    }
    /* After all that, sixteen single descriptors use sixteen distinct heads. */
    for (unsigned i = 0; i < 16; i++) {
        int h = vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(i), 0);
        ck_assert_int_ge(h, 0);
        ck_assert_int_lt(h, 16);
        ck_assert(!head_seen[h]);
        head_seen[h] = true;
    }
    ck_assert_int_eq(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(16), 0), -ENOSPC);
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
    dev_push(&f.dev, 8 + 3, 5);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, &head), -EPROTO);
    ck_assert_uint_eq(head, 11);
    ck_assert_uint_eq(len, 5);
    ck_assert_ptr_eq(tok, TOKEN(77));
    /* The bad entry was consumed. */
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, &head), 0);
    /* In range but never made available. */
    dev_push(&f.dev, 5, 0);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, &head), -EPROTO);
    ck_assert_uint_eq(head, 5);
    dev_push(&f.dev, 0xffffffffu, 0);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, &head), -EPROTO);
    ck_assert_uint_eq(head, 0xffffffffu);
    /* The real chain is still in flight and completes normally. */
    ck_assert_uint_eq(f.vq->in_flight, 1);
    dev_push(&f.dev, c.head, 8);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, &head), 1);
    ck_assert_ptr_eq(tok, TOKEN(1));
    ck_assert_uint_eq(f.vq->num_free, 8);
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
    dev_push(&f.dev, c.head, 1);
    dev_push(&f.dev, c.head, 2);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, &head), 1);
    ck_assert_ptr_eq(tok, TOKEN(1));
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, &head), -EPROTO);
    ck_assert_uint_eq(head, c.head);
    ck_assert_uint_eq(len, 2);
    /* The duplicate did not free the chain's descriptors twice. */
    ck_assert_uint_eq(f.vq->num_free, 8);
    ck_assert_uint_eq(f.vq->in_flight, 0);
    ck_assert_uint_eq(f.vq->n_used, 1);
    fix_fini(&f);
}
END_TEST

/* Hostile input: raw chains are written as given and kept in the driver's books. */
START_TEST(raw_chains)
{
    Fix f;
    const uint64_t a = MEM_GPA + 0x80000, b = MEM_GPA + 0x80100, c = MEM_GPA + 0x80200;
    /* header -> data -> status -> data: a loop back to the second entry. */
    const VcRawDesc loop[] = {
        {a, 16, VRING_DESC_F_NEXT, 1},
        {b, 32, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2},
        {c, 0, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1},
    };
    const VcRawDesc as_is[] = {{0xfffffffffffff000ull, 7, VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT,
                                VC_RAW_NEXT_AS_IS | 200}};
    const VcRawDesc bad_next[] = {{a, 16, VRING_DESC_F_NEXT, 1}};
    struct vring_desc *t, one;
    void *tok;
    uint32_t len, head;
    uint16_t s1, s2;
    int h, h2;

    fix_init(&f, 8, 0, 0);
    f.vq->dma_offset = 0x1000;   /* raw addresses are not moved by the IOVA offset */
    ck_assert_int_eq(vc_vq_add_raw(f.vq, loop, 0, TOKEN(1)), -EINVAL);
    ck_assert_int_eq(vc_vq_add_raw(f.vq, loop, 3, NULL), -EINVAL);
    ck_assert_int_eq(vc_vq_add_raw(f.vq, bad_next, 1, TOKEN(1)), -EINVAL);
    h = vc_vq_add_raw(f.vq, loop, 3, TOKEN(1));
    ck_assert_int_ge(h, 0);
    t = f.vq->desc;
    s1 = le16toh(t[h].next);
    s2 = le16toh(t[s1].next);
    ck_assert_uint_eq(le64toh(t[h].addr), a);
    ck_assert_uint_eq(le32toh(t[s1].len), 32);
    ck_assert_uint_eq(le16toh(t[s1].flags), VRING_DESC_F_WRITE | VRING_DESC_F_NEXT);
    ck_assert_uint_eq(le64toh(t[s2].addr), c);
    ck_assert_uint_eq(le32toh(t[s2].len), 0);
    ck_assert_uint_eq(le16toh(t[s2].next), s1);
    ck_assert_uint_eq(f.vq->num_free, 5);
    h2 = vc_vq_add_raw(f.vq, as_is, 1, TOKEN(2));
    ck_assert_int_ge(h2, 0);
    ck_assert_uint_eq(le16toh(t[h2].next), 200);
    ck_assert_uint_eq(le64toh(t[h2].addr), 0xfffffffffffff000ull);
    ck_assert_int_eq(vc_vq_add_raw(f.vq, loop, 3, TOKEN(3)) >= 0, true);
    ck_assert_int_eq(vc_vq_add_raw(f.vq, loop, 3, TOKEN(4)), -ENOSPC);
    vc_vq_publish(f.vq);
    ck_assert_uint_eq(dev_avail_idx(&f.dev), 3);
    ck_assert_uint_eq(le16toh(dev_avail(&f.dev)->ring[0]), h);
    /* A device that completes one anyway gives its descriptors back. */
    dev_push(&f.dev, (uint32_t)h, 0);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, &head), 1);
    ck_assert_ptr_eq(tok, TOKEN(1));
    ck_assert_uint_eq(f.vq->num_free, 4);
    ck_assert_uint_eq(f.vq->in_flight, 2);
    /* used->idx moved by the driver: the device's field changes, the driver's shadow not. */
    ck_assert_int_eq(vc_vq_set_used_idx(f.vq, 100), 0);
    ck_assert_uint_eq(vc_vq_used_idx(f.vq), 100);
    ck_assert_uint_eq(f.vq->last_used, 1);
    vc_vq_raw_desc(&one, &as_is[0]);
    ck_assert_uint_eq(le16toh(one.next), 200);
    ck_assert_uint_eq(le32toh(one.len), 7);
    fix_fini(&f);
}
END_TEST

/* Indices run through 65535 -> 0: 20 requests from 65530. */
START_TEST(index_wrap)
{
    Fix f;
    Chain c;
    const VcSg sg[] = {{MEM_GPA + 0x80000, 8}, {MEM_GPA + 0x80100, 8}};
    unsigned done = 0, sent = 0;

    fix_init(&f, 8, 0, 0);
    vc_vq_reset(f.vq, 65530);
    dev_init(&f.dev, f.vq);
    ck_assert_uint_eq(le16toh(f.vq->avail->idx), 65530);
    ck_assert_uint_eq(vc_vq_used_idx(f.vq), 65530);
    while (done < 20) {
        /* Batches of 3 so that the batches straddle the wrap. */
        for (unsigned k = 0; k < 3 && sent < 20; k++, sent++) {
            ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, sg + 1, 1, TOKEN(sent), 0), 0);
        }
        vc_vq_publish(f.vq);
        ck_assert_uint_eq(dev_avail_idx(&f.dev), (uint16_t)(65530 + sent));
        while (dev_pop(&f.dev, &c)) {
            ck_assert_uint_eq(c.n, 2);
            dev_push(&f.dev, c.head, 16);
        }
        for (;;) {
            void *tok;
            uint32_t len;
            int r = vc_vq_pop_used(f.vq, &tok, &len, NULL);
            ck_assert_int_ge(r, 0);
            if (r == 0) {
                break;
            }
            ck_assert_ptr_eq(tok, TOKEN(done));
            ck_assert_uint_eq(len, 16);
            done++;
        }
    }
    ck_assert_uint_eq(sent, 20);
    ck_assert_uint_eq(f.vq->avail_idx, (uint16_t)(65530 + 20));
    ck_assert_uint_eq(le16toh(f.vq->avail->idx), 14);
    ck_assert_uint_eq(vc_vq_used_idx(f.vq), 14);
    ck_assert_uint_eq(f.vq->last_used, 14);
    ck_assert_uint_eq(f.vq->num_free, 8);
    fix_fini(&f);
}
END_TEST

START_TEST(reset_forgets_chains)
{
    Fix f;
    const VcSg sg[] = {{MEM_GPA + 0x80000, 8}};
    void *tok;
    uint32_t len;

    fix_init(&f, 8, 0, 0);
    for (unsigned i = 0; i < 5; i++) {
        ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(i), 0), 0);
    }
    vc_vq_publish(f.vq);
    vc_vq_reset(f.vq, 100);
    ck_assert_uint_eq(f.vq->num_free, 8);
    ck_assert_uint_eq(f.vq->in_flight, 0);
    ck_assert_uint_eq(f.vq->avail_idx, 100);
    ck_assert_uint_eq(le16toh(f.vq->avail->idx), 100);
    ck_assert_uint_eq(le16toh(f.vq->used->idx), 100);
    ck_assert_uint_eq(le16toh(f.vq->desc[0].flags), 0);
    ck_assert_uint_eq(le64toh(f.vq->desc[0].addr), 0);
    /* used_event = idx: calls on from the first completion. */
    ck_assert_uint_eq(le16toh(f.vq->avail->ring[8]), 100);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, NULL), 0);
    /* An id from before the reset is no longer in flight. */
    dev_init(&f.dev, f.vq);
    dev_push(&f.dev, 0, 0);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, NULL), -EPROTO);
    fix_fini(&f);
}
END_TEST

/* --- Notifications --------------------------------------------------------------------- */

START_TEST(kick_needed_no_event_idx)
{
    Fix f;
    const VcSg sg[] = {{MEM_GPA + 0x80000, 8}};

    fix_init(&f, 8, 0, 0);
    ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(0), 0), 0);
    vc_vq_publish(f.vq);
    ck_assert(vc_vq_kick_needed(f.vq));
    dev_used(&f.dev)->flags = htole16(VRING_USED_F_NO_NOTIFY);
    ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(1), 0), 0);
    vc_vq_publish(f.vq);
    ck_assert(!vc_vq_kick_needed(f.vq));
    dev_used(&f.dev)->flags = 0;
    ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(2), 0), 0);
    vc_vq_publish(f.vq);
    ck_assert(vc_vq_kick_needed(f.vq));
    /* The avail_event slot means nothing without EVENT_IDX. */
    dev_set_avail_event(&f.dev, 1000);
    ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(3), 0), 0);
    vc_vq_publish(f.vq);
    ck_assert(vc_vq_kick_needed(f.vq));
    fix_fini(&f);
}
END_TEST

/* EVENT_IDX: kick when avail_event lies in [old, new) (virtio 1.x 2.7.10). */
static const struct {
    uint16_t start;        /* ring start index */
    unsigned first;        /* chains added and checked before */
    unsigned batch;        /* chains added in this batch */
    uint16_t avail_event;  /* set by the device */
    bool kick;
} event_cases[] = {
    {0, 0, 1, 0, true},
    {0, 0, 1, 1, false},
    {0, 0, 3, 0, true},
    {0, 0, 3, 2, true},
    {0, 0, 3, 3, false},
    {0, 0, 3, 65535, false},
    {0, 2, 2, 1, false},     /* the device asked for index 1, already kicked past */
    {0, 2, 2, 2, true},
    {0, 2, 2, 3, true},
    {0, 2, 2, 4, false},
    {65535, 0, 2, 65535, true},
    {65535, 0, 2, 0, true},
    {65535, 0, 2, 1, false},
    {65534, 1, 2, 65535, true},
    {65534, 1, 2, 0, true},
    {65534, 1, 2, 65534, false},
};

START_TEST(kick_needed_event_idx)
{
    Fix f;
    const VcSg sg[] = {{MEM_GPA + 0x80000, 8}};
    unsigned n = 0;

    fix_init(&f, 8, VC_VQ_EVENT_IDX, 0);
    vc_vq_reset(f.vq, event_cases[_i].start);
    dev_init(&f.dev, f.vq);
    /* The device's avail_event is ignored for the first batch here: it asks for the start. */
    dev_set_avail_event(&f.dev, event_cases[_i].start);
    for (unsigned i = 0; i < event_cases[_i].first; i++, n++) {
        ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(n), 0), 0);
    }
    if (event_cases[_i].first) {
        vc_vq_publish(f.vq);
        ck_assert(vc_vq_kick_needed(f.vq));
    }
    /* NO_NOTIFY is ignored with EVENT_IDX. */
    dev_used(&f.dev)->flags = htole16(VRING_USED_F_NO_NOTIFY);
    dev_set_avail_event(&f.dev, event_cases[_i].avail_event);
    for (unsigned i = 0; i < event_cases[_i].batch; i++, n++) {
        ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(n), 0), 0);
    }
    vc_vq_publish(f.vq);
    ck_assert_uint_eq(vc_vq_avail_event(f.vq), event_cases[_i].avail_event);
    ck_assert_msg(vc_vq_kick_needed(f.vq) == event_cases[_i].kick,
                  "start %u, %u then %u chains, avail_event %u: want kick=%d",
                  event_cases[_i].start, event_cases[_i].first, event_cases[_i].batch,
                  event_cases[_i].avail_event, event_cases[_i].kick);
    /* Nothing new since: never a kick. */
    ck_assert(!vc_vq_kick_needed(f.vq));
    fix_fini(&f);
}
END_TEST

START_TEST(enable_calls)
{
    Fix f;
    const VcSg sg[] = {{MEM_GPA + 0x80000, 8}};
    Chain c;
    void *tok;
    uint32_t len;

    /* Without EVENT_IDX: avail->flags NO_INTERRUPT. */
    fix_init(&f, 8, 0, 0);
    ck_assert_uint_eq(le16toh(f.vq->avail->flags), 0);
    vc_vq_enable_calls(f.vq, false);
    ck_assert_uint_eq(le16toh(f.vq->avail->flags), VRING_AVAIL_F_NO_INTERRUPT);
    vc_vq_enable_calls(f.vq, true);
    ck_assert_uint_eq(le16toh(f.vq->avail->flags), 0);
    fix_fini(&f);

    /* With EVENT_IDX: used_event, and avail->flags stays 0. */
    fix_init(&f, 8, VC_VQ_EVENT_IDX, 0);
    for (unsigned i = 0; i < 3; i++) {
        ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(i), 0), 0);
    }
    vc_vq_publish(f.vq);
    for (unsigned i = 0; i < 3; i++) {
        ck_assert(dev_pop(&f.dev, &c));
        dev_push(&f.dev, c.head, 0);
        ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, NULL), 1);
    }
    ck_assert_uint_eq(f.vq->last_used, 3);
    vc_vq_enable_calls(f.vq, true);
    ck_assert_uint_eq(le16toh(f.vq->avail->ring[8]), 3);
    vc_vq_enable_calls(f.vq, false);
    ck_assert_uint_eq(le16toh(f.vq->avail->ring[8]), 2);
    ck_assert_uint_eq(le16toh(f.vq->avail->flags), 0);
    vc_vq_set_used_event(f.vq, 0x1234);
    ck_assert_uint_eq(le16toh(f.vq->avail->ring[8]), 0x1234);
    /* At index 0 "off" is 65535. */
    vc_vq_reset(f.vq, 0);
    vc_vq_enable_calls(f.vq, false);
    ck_assert_uint_eq(le16toh(f.vq->avail->ring[8]), 65535);
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

START_TEST(kick_eventfd_and_pipe)
{
    Fix f;
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int p[2];
    uint64_t v;

    ck_assert_int_ge(efd, 0);
    ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    fix_init(&f, 8, 0, 0);
    /* No kick fd: the daemon polls; nothing to do. */
    ck_assert_int_eq(vc_vq_kick(f.vq), 0);
    ck_assert_uint_eq(f.vq->n_kicks, 0);

    vc_vq_set_fds(f.vq, efd, -1, -1);
    ck_assert_int_eq(vc_vq_kick(f.vq), 0);
    read_u64(efd, 1);
    ck_assert_int_eq(vc_vq_kick_value(f.vq, 0xdeadbeef), 0);
    read_u64(efd, 0xdeadbeef);
    ck_assert_int_eq(read(efd, &v, sizeof(v)), -1);
    ck_assert_uint_eq(f.vq->n_kicks, 2);

    /* A pipe gets one 8-byte write per kick. */
    vc_vq_set_fds(f.vq, p[1], -1, -1);
    ck_assert_int_eq(vc_vq_kick(f.vq), 0);
    ck_assert_int_eq(vc_vq_kick_value(f.vq, 7), 0);
    read_u64(p[0], 1);
    read_u64(p[0], 7);
    ck_assert_int_eq(read(p[0], &v, 1), -1);
    /* A full pipe (the daemon never reads) is not an error: the kick is pending anyway. */
    ck_assert_int_eq(fcntl(p[1], F_SETPIPE_SZ, 4096), 4096);
    for (unsigned i = 0; i < 4096 / 8; i++) {
        ck_assert_int_eq(vc_vq_kick(f.vq), 0);
    }
    ck_assert_int_eq(vc_vq_kick(f.vq), 0);
    fix_fini(&f);
    close(efd);
    close(p[0]);
    close(p[1]);
}
END_TEST

START_TEST(notify_publishes_and_kicks)
{
    Fix f;
    const VcSg sg[] = {{MEM_GPA + 0x80000, 8}};
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    uint64_t v;

    fix_init(&f, 8, VC_VQ_EVENT_IDX, 0);
    vc_vq_set_fds(f.vq, efd, -1, -1);
    ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(0), 0), 0);
    ck_assert_int_eq(vc_vq_notify(f.vq), 1);
    ck_assert_uint_eq(dev_avail_idx(&f.dev), 1);
    read_u64(efd, 1);
    /* The device asks for a kick at index 5 only. */
    dev_set_avail_event(&f.dev, 5);
    ck_assert_int_ge(vc_vq_add(f.vq, sg, 1, NULL, 0, TOKEN(1), 0), 0);
    ck_assert_int_eq(vc_vq_notify(f.vq), 0);
    ck_assert_uint_eq(dev_avail_idx(&f.dev), 2);
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

START_TEST(calls_eventfd)
{
    Fix f;
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    uint64_t one = 1;

    fix_init(&f, 8, 0, 0);
    ck_assert_int_eq(vc_vq_wait_call(f.vq, 0), -ENOTCONN);
    ck_assert_int_eq(vc_vq_take_call(f.vq), 0);
    vc_vq_set_fds(f.vq, -1, efd, -1);
    ck_assert_int_eq(vc_vq_take_call(f.vq), 0);
    ck_assert_int_eq(vc_vq_wait_call(f.vq, 20), 0);
    /* Two signals on an eventfd are one call. */
    ck_assert_int_eq(write(efd, &one, 8), 8);
    ck_assert_int_eq(write(efd, &one, 8), 8);
    ck_assert_int_eq(vc_vq_wait_call(f.vq, 10000), 1);
    ck_assert_int_eq(vc_vq_take_call(f.vq), 0);
    ck_assert_int_eq(write(efd, &one, 8), 8);
    ck_assert_int_eq(vc_vq_take_call(f.vq), 1);
    ck_assert_int_eq(vc_vq_wait_call(f.vq, 0), 0);
    ck_assert_uint_eq(f.vq->n_calls, 2);
    fix_fini(&f);
    close(efd);
}
END_TEST

START_TEST(calls_pipe)
{
    Fix f;
    int p[2];
    uint64_t v = 0x55;

    ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    fix_init(&f, 8, 0, 0);
    vc_vq_set_fds(f.vq, -1, p[0], -1);
    ck_assert_int_eq(vc_vq_wait_call(f.vq, 20), 0);
    /* On a pipe every 8-byte write is one call. */
    ck_assert_int_eq(write(p[1], &v, 8), 8);
    ck_assert_int_eq(write(p[1], &v, 8), 8);
    ck_assert_int_eq(vc_vq_wait_call(f.vq, 10000), 1);
    ck_assert_int_eq(vc_vq_take_call(f.vq), 1);
    ck_assert_int_eq(vc_vq_take_call(f.vq), 0);
    ck_assert_int_eq(vc_vq_wait_call(f.vq, 0), 0);
    ck_assert_uint_eq(f.vq->n_calls, 2);
    fix_fini(&f);
    close(p[0]);
    close(p[1]);
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
    dev_push(&f.dev, c.head, 20);
    ck_assert_int_eq(write(cfd, &one, 8), 8);
    ck_assert_int_eq(vc_vq_wait_call(f.vq, 10000), 1);
    ck_assert_int_eq(vc_vq_pop_used(f.vq, &tok, &len, NULL), 1);
    ck_assert_uint_eq(t.n, 4);
    ck_assert_int_eq(t.ev[0], VC_VQ_EV_AVAIL);
    ck_assert_uint_eq(t.head[0], 0);
    ck_assert_uint_eq(t.len[0], 30);
    ck_assert_int_eq(t.ev[1], VC_VQ_EV_KICK);
    ck_assert_uint_eq(t.head[1], 1);
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

static Suite *
vq_split_suite(void)
{
    Suite *s = suite_create("vq-split");
    TCase *tc;

    tc = tcase_create("layout");
    tcase_add_test(tc, new_rejects_bad_sizes);
    tcase_add_test(tc, layout_and_ranges);
    tcase_add_test(tc, ranges_without_indirect);
    suite_add_tcase(s, tc);

    tc = tcase_create("chains");
    tcase_add_test(tc, direct_chain);
    tcase_add_test(tc, one_sided_chains);
    tcase_add_test(tc, indirect_chain);
    tcase_add_test(tc, indirect_fills_ring);
    tcase_add_test(tc, add_rejects_bad_chains);
    tcase_add_test(tc, ring_full);
    tcase_add_loop_test(tc, free_list_any_order, 0, 5);
    tcase_add_test(tc, pop_used_bad_id);
    tcase_add_test(tc, pop_used_duplicate_id);
    tcase_add_test(tc, raw_chains);
    tcase_add_test(tc, index_wrap);
    tcase_add_test(tc, reset_forgets_chains);
    suite_add_tcase(s, tc);

    tc = tcase_create("notify");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, kick_needed_no_event_idx);
    tcase_add_loop_test(tc, kick_needed_event_idx, 0, G_N_ELEMENTS(event_cases));
    tcase_add_test(tc, enable_calls);
    tcase_add_test(tc, kick_eventfd_and_pipe);
    tcase_add_test(tc, notify_publishes_and_kicks);
    tcase_add_test(tc, calls_eventfd);
    tcase_add_test(tc, calls_pipe);
    tcase_add_test(tc, datapath_tap);
    suite_add_tcase(s, tc);

    return s;
}

int
main(void)
{
    return vc_test_run(vq_split_suite());
}
