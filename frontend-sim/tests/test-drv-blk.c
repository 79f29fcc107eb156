/*
 * test-drv-blk.c -- the virtio-blk driver side (vc-drv-blk.c): request
 * builders, config parsing, chain shapes as a device sees them, and what
 * the driver records from completions made by an in-test device.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vc-drv-blk.h"
#include "vc-error.h"
#include "vc-test-dev.h"
#include "vc-test-util.h"

/* A front end with ring 0 and a blk pool on it; the device side on ring 0. */
typedef struct Fix {
    int sv[2];
    VcFrontend *fe;
    VcBlkDrv *d;
    VcTestDev dev;
} Fix;

static void
fix_init(Fix *f, unsigned n)
{
    GError *err = NULL;

    f->fe = vc_test_fe(f->sv, "blk", 1);
    f->d = vc_blk_new(f->fe, 0, n, 4096, &err);
    ck_assert_msg(f->d != NULL, "%s", err ? err->message : "");
    vc_test_dev_init(&f->dev, f->fe->q[0].vq);
}

static void
fix_fini(Fix *f)
{
    vc_blk_free(f->d);
    vc_fe_free(f->fe);
    close(f->sv[1]);
}

/* --- Builders ------------------------------------------------------------------------- */

START_TEST(outhdr_is_little_endian)
{
    struct virtio_blk_outhdr h;
    const uint8_t *b = (const uint8_t *)&h;

    memset(&h, 0xff, sizeof(h));
    vc_blk_outhdr(&h, VIRTIO_BLK_T_GET_ID, 0x0102030405060708ull);
    ck_assert_uint_eq(sizeof(h), 16);
    ck_assert_uint_eq(b[0], 8);
    ck_assert_uint_eq(b[1] | b[2] | b[3], 0);
    ck_assert_uint_eq(h.ioprio, 0);
    ck_assert_uint_eq(b[8], 0x08);
    ck_assert_uint_eq(b[15], 0x01);
}
END_TEST

START_TEST(dwz_segment)
{
    struct virtio_blk_discard_write_zeroes s;
    const uint8_t *b = (const uint8_t *)&s;

    vc_blk_dwz(&s, 2048, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP | (1u << 7));
    ck_assert_uint_eq(sizeof(s), 16);
    ck_assert_uint_eq(le64toh(s.sector), 2048);
    ck_assert_uint_eq(b[8], 8);
    ck_assert_uint_eq(le32toh(s.flags), 0x81);
}
END_TEST

START_TEST(parse_config_fields_and_length)
{
    uint8_t raw[60] = {0};
    struct virtio_blk_config c;

    /* capacity 0x20000, blk_size 4096 (offset 20), num_queues 3 (offset 34). */
    raw[2] = 0x02;
    raw[21] = 0x10;
    raw[34] = 3;
    raw[36] = 0x55;          /* max_discard_sectors: beyond a 36-byte answer */
    vc_blk_parse_config(raw, sizeof(raw), &c);
    ck_assert_uint_eq(c.capacity, 0x20000);
    ck_assert_uint_eq(c.blk_size, 4096);
    ck_assert_uint_eq(c.num_queues, 3);
    ck_assert_uint_eq(c.max_discard_sectors, 0x55);
    vc_blk_parse_config(raw, 36, &c);
    ck_assert_uint_eq(c.num_queues, 3);
    ck_assert_uint_eq(c.max_discard_sectors, 0);
}
END_TEST

START_TEST(names)
{
    ck_assert_str_eq(vc_blk_type_name(VIRTIO_BLK_T_WRITE_ZEROES), "WRITE_ZEROES");
    ck_assert_str_eq(vc_blk_type_name(99), "type 99");
    ck_assert_str_eq(vc_blk_status_name(VIRTIO_BLK_S_UNSUPP), "UNSUPP");
    ck_assert_str_eq(vc_blk_status_name(VC_BLK_STATUS_NONE), "not written");
    ck_assert_str_eq(vc_blk_status_name(7), "0x07");
}
END_TEST

/* Chain shapes for each direction, with the data split over descriptors. */
static const struct {
    VcBlkDir dir;
    uint32_t len;
    unsigned nseg;
    unsigned n_out, n_in;
} shapes[] = {
    {VC_BLK_DIR_NONE, 0, 0, 1, 1},
    {VC_BLK_DIR_IN, 512, 1, 1, 2},
    {VC_BLK_DIR_IN, 1000, 3, 1, 4},
    {VC_BLK_DIR_OUT, 4096, 4, 5, 1},
    {VC_BLK_DIR_OUT, 3, 8, 4, 1},   /* more segments than bytes: one byte each */
};

START_TEST(chain_shapes)
{
    VcBlkReq r = {.hdr_gpa = 0x1000, .data_gpa = 0x2000, .status_gpa = 0x3000, .data_cap = 4096};
    VcSg out[1 + VC_BLK_MAX_SEGS], in[1 + VC_BLK_MAX_SEGS];
    unsigned n_out, n_in;
    uint64_t next = 0x2000;
    uint32_t sum = 0;
    VcSg *data;
    unsigned nd;

    r.cmd = (VcBlkCmd){0, 0, shapes[_i].dir, shapes[_i].len, NULL, shapes[_i].nseg};
    vc_blk_chain(&r, out, &n_out, in, &n_in);
    ck_assert_uint_eq(n_out, shapes[_i].n_out);
    ck_assert_uint_eq(n_in, shapes[_i].n_in);
    ck_assert_uint_eq(out[0].gpa, 0x1000);
    ck_assert_uint_eq(out[0].len, 16);
    /* The status byte is the last writable descriptor. */
    ck_assert_uint_eq(in[n_in - 1].gpa, 0x3000);
    ck_assert_uint_eq(in[n_in - 1].len, 1);
    data = shapes[_i].dir == VC_BLK_DIR_OUT ? out + 1 : in;
    nd = shapes[_i].dir == VC_BLK_DIR_OUT ? n_out - 1 : n_in - 1;
    for (unsigned k = 0; k < nd; k++) {
        ck_assert_uint_eq(data[k].gpa, next);
        ck_assert_uint_gt(data[k].len, 0);
        next += data[k].len;
        sum += data[k].len;
    }
    ck_assert_uint_eq(sum, shapes[_i].len);
}
END_TEST

/* --- Against the in-test device -------------------------------------------------------- */

START_TEST(device_sees_request)
{
    Fix f;
    VcTestChain c;
    uint8_t payload[1024], got[16 + 1024];
    struct virtio_blk_outhdr h;
    VcBlkCmd cmd;

    fix_init(&f, 4);
    for (unsigned k = 0; k < sizeof(payload); k++) {
        payload[k] = (uint8_t)(k * 3 + 1);
    }
    cmd = (VcBlkCmd){VIRTIO_BLK_T_OUT, 77, VC_BLK_DIR_OUT, sizeof(payload), payload, 2};
    ck_assert_int_ge(vc_blk_queue(f.d, &cmd), 0);
    ck_assert_uint_eq(vc_test_dev_pending(&f.dev), 0);   /* queued, not published */
    vc_blk_kick(f.d);
    ck_assert(vc_test_dev_pop(&f.dev, &c));
    ck_assert_uint_eq(c.n_rd, 3);
    ck_assert_uint_eq(c.n_wr, 1);
    ck_assert_uint_eq(c.wr_len, 1);
    ck_assert_uint_eq(vc_test_dev_read(&c, got, sizeof(got)), sizeof(got));
    memcpy(&h, got, sizeof(h));
    ck_assert_uint_eq(le32toh(h.type), VIRTIO_BLK_T_OUT);
    ck_assert_uint_eq(le64toh(h.sector), 77);
    ck_assert_mem_eq(got + 16, payload, sizeof(payload));
    /* The writable status starts as the guard. */
    ck_assert_uint_eq(c.wr[0].p[0], VC_GMEM_GUARD);
    fix_fini(&f);
}
END_TEST

START_TEST(completion_records_facts)
{
    Fix f;
    VcTestChain c;
    uint8_t data[512], ok = VIRTIO_BLK_S_OK;
    VcBlkCmd in = {VIRTIO_BLK_T_IN, 0, VC_BLK_DIR_IN, 512, NULL, 1};
    VcBlkCmd id = {VIRTIO_BLK_T_GET_ID, 0, VC_BLK_DIR_IN, VIRTIO_BLK_ID_BYTES, NULL, 1};
    VcBlkCmd fl = {VIRTIO_BLK_T_FLUSH, 0, VC_BLK_DIR_NONE, 0, NULL, 0};
    int s_in, s_id, s_fl;

    fix_init(&f, 4);
    s_in = vc_blk_queue(f.d, &in);
    s_id = vc_blk_queue(f.d, &id);
    s_fl = vc_blk_queue(f.d, &fl);
    ck_assert_int_ge(s_in, 0);
    ck_assert_int_ge(s_id, 0);
    ck_assert_int_ge(s_fl, 0);
    vc_blk_kick(f.d);
    ck_assert_uint_eq(vc_blk_in_flight(f.d), 3);

    /* IN: every data byte and the status written, used.len 513. */
    ck_assert(vc_test_dev_pop(&f.dev, &c));
    memset(data, 0, sizeof(data));
    vc_test_dev_write(&c, 0, data, sizeof(data));
    vc_test_dev_write(&c, 512, &ok, 1);
    vc_test_dev_push(&f.dev, c.head, 513);
    /* GET_ID: a 4-byte string, no padding, status, but used.len 21 (QEMU's way). */
    ck_assert(vc_test_dev_pop(&f.dev, &c));
    vc_test_dev_write(&c, 0, "abc", 4);
    vc_test_dev_write(&c, VIRTIO_BLK_ID_BYTES, &ok, 1);
    vc_test_dev_push(&f.dev, c.head, VIRTIO_BLK_ID_BYTES + 1);
    /* FLUSH: the status left alone. */
    ck_assert(vc_test_dev_pop(&f.dev, &c));
    vc_test_dev_push(&f.dev, c.head, 1);

    ck_assert_uint_eq(vc_blk_reap(f.d), 3);
    ck_assert_uint_eq(vc_blk_in_flight(f.d), 0);

    ck_assert_int_eq(f.d->req[s_in].status, VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(f.d->req[s_in].used_len, 513);
    ck_assert_uint_eq(f.d->req[s_in].writable, 513);
    ck_assert_uint_eq(f.d->req[s_in].data_unwritten, 0);
    ck_assert_uint_eq(f.d->req[s_in].unwritten_in_len, 0);
    ck_assert_uint_eq(f.d->req[s_in].written, 513);

    ck_assert_int_eq(f.d->req[s_id].status, VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(f.d->req[s_id].data_unwritten, VIRTIO_BLK_ID_BYTES - 4);
    ck_assert_uint_eq(f.d->req[s_id].unwritten_in_len, VIRTIO_BLK_ID_BYTES - 4);
    ck_assert_uint_eq(f.d->req[s_id].written, 4 + 1);
    ck_assert_mem_eq(vc_blk_data(f.d, (unsigned)s_id), "abc", 4);

    ck_assert_int_eq(f.d->req[s_fl].status, VC_BLK_STATUS_NONE);
    ck_assert_uint_eq(f.d->req[s_fl].unwritten_in_len, 1);
    ck_assert_uint_eq(f.d->req[s_fl].written, 0);
    ck_assert(!f.d->req[s_fl].readable_changed);
    fix_fini(&f);
}
END_TEST

START_TEST(pool_and_ring_limits)
{
    Fix f;
    VcBlkCmd in = {VIRTIO_BLK_T_IN, 0, VC_BLK_DIR_IN, 512, NULL, 1};
    VcBlkCmd big = {VIRTIO_BLK_T_IN, 0, VC_BLK_DIR_IN, 8192, NULL, 1};
    VcBlkCmd flush_data = {VIRTIO_BLK_T_FLUSH, 0, VC_BLK_DIR_NONE, 4, NULL, 0};

    fix_init(&f, 2);
    ck_assert_int_eq(vc_blk_queue(f.d, &big), -EINVAL);
    ck_assert_int_eq(vc_blk_queue(f.d, &flush_data), -EINVAL);
    ck_assert_int_ge(vc_blk_queue(f.d, &in), 0);
    ck_assert_int_ge(vc_blk_queue(f.d, &in), 0);
    ck_assert_int_eq(vc_blk_queue(f.d, &in), -EBUSY);
    fix_fini(&f);
}
END_TEST

START_TEST(run_times_out_without_device)
{
    Fix f;
    VcBlkCmd in = {VIRTIO_BLK_T_IN, 0, VC_BLK_DIR_IN, 512, NULL, 1};
    VcBlkReq *r = NULL;
    gint64 t0 = g_get_monotonic_time();

    fix_init(&f, 2);
    ck_assert_int_eq(vc_blk_run(f.d, &in, 60, &r), 0);
    ck_assert_ptr_nonnull(r);
    ck_assert(r->posted);
    ck_assert_int_lt(g_get_monotonic_time() - t0, 2 * G_USEC_PER_SEC);
    fix_fini(&f);
}
END_TEST

/* The generic traffic: post, device completes, verify judges the facts. */
START_TEST(traffic_verify)
{
    int sv[2];
    VcFrontend *fe = vc_test_fe(sv, "blk", 1);
    GError *err = NULL;
    VcTraffic *t = vc_traffic_new(fe, G_MAXUINT, 4, &err);
    VcTestDev dev;
    VcTestChain c;
    uint8_t zero[512] = {0}, st = VIRTIO_BLK_S_OK;
    const char *bad;

    ck_assert_msg(t != NULL, "%s", err ? err->message : "");
    ck_assert_str_eq(t->ops->device, "blk");
    vc_test_dev_init(&dev, t->vq);
    ck_assert_uint_eq(vc_traffic_post(t, 4), 4);
    ck_assert_uint_eq(vc_test_dev_pending(&dev), 4);
    ck_assert_uint_eq(vc_traffic_touched(t), 0);
    for (unsigned i = 0; i < 4; i++) {
        ck_assert(vc_test_dev_pop(&dev, &c));
        ck_assert_uint_eq(c.wr_len, 513);
        vc_test_dev_write(&c, 0, zero, sizeof(zero));
        vc_test_dev_write(&c, 512, &st, 1);
        if (i == 0) {
            ck_assert_uint_eq(vc_traffic_touched(t), 1);   /* written, not yet used */
        }
        vc_test_dev_push(&dev, c.head, 513);
    }
    ck_assert_uint_eq(vc_traffic_reap(t), 4);
    ck_assert_uint_eq(t->completed, 4);
    ck_assert_ptr_null(vc_traffic_verify(t));

    /* A round where one read is answered with used.len 512: verify names it. */
    ck_assert_uint_eq(vc_traffic_post(t, 1), 1);
    ck_assert(vc_test_dev_pop(&dev, &c));
    vc_test_dev_write(&c, 0, zero, sizeof(zero));
    vc_test_dev_write(&c, 512, &st, 1);
    vc_test_dev_push(&dev, c.head, 512);
    ck_assert_uint_eq(vc_traffic_reap(t), 1);
    bad = vc_traffic_verify(t);
    ck_assert_ptr_nonnull(bad);
    ck_assert_ptr_nonnull(strstr(bad, "used.len 512"));

    /* IOERR is named too. */
    st = VIRTIO_BLK_S_IOERR;
    vc_traffic_post(t, 1);
    ck_assert(vc_test_dev_pop(&dev, &c));
    vc_test_dev_write(&c, 512, &st, 1);
    vc_test_dev_push(&dev, c.head, 1);
    vc_traffic_reap(t);
    ck_assert_ptr_nonnull(strstr(vc_traffic_verify(t), "IOERR"));
    vc_traffic_free(t);
    vc_fe_free(fe);
    close(sv[1]);
}
END_TEST

START_TEST(traffic_bad_id_counted)
{
    int sv[2];
    VcFrontend *fe = vc_test_fe(sv, "blk", 1);
    VcTraffic *t = vc_traffic_new(fe, G_MAXUINT, 2, NULL);
    VcTestDev dev;

    vc_test_dev_init(&dev, t->vq);
    vc_traffic_post(t, 1);
    vc_test_dev_push(&dev, 200, 1);   /* a head nobody made available */
    ck_assert_uint_eq(vc_traffic_reap(t), 1);
    ck_assert_uint_eq(vc_traffic_bad_ids(t), 1);
    ck_assert_uint_eq(t->completed, 0);
    vc_traffic_free(t);
    vc_fe_free(fe);
    close(sv[1]);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("drv-blk");
    TCase *tc = tcase_create("builders");

    tcase_add_test(tc, outhdr_is_little_endian);
    tcase_add_test(tc, dwz_segment);
    tcase_add_test(tc, parse_config_fields_and_length);
    tcase_add_test(tc, names);
    tcase_add_loop_test(tc, chain_shapes, 0, G_N_ELEMENTS(shapes));
    suite_add_tcase(s, tc);
    tc = tcase_create("device");
    tcase_add_test(tc, device_sees_request);
    tcase_add_test(tc, completion_records_facts);
    tcase_add_test(tc, pool_and_ring_limits);
    tcase_add_test(tc, run_times_out_without_device);
    tcase_add_test(tc, traffic_verify);
    tcase_add_test(tc, traffic_bad_id_counted);
    suite_add_tcase(s, tc);
    return vc_test_run(s);
}
