// SPDX-License-Identifier: GPL-2.0
/*
 * The pre-copy engine in one process: the source and the destination run
 * in two threads over a socketpair, on memory regions, with VM and
 * destination hooks that play the VMM on each side.  These are the parts
 * a kvmmig session plugs into (STATE records both ways, the VMM's
 * arrival, aborts, a VM that vanishes) and the switch-over barrier a
 * QEMU needs (COMMITTED), tested without the module.
 *
 * Prints "N passed, N failed" last and exits non-zero on any failure.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "engine/precopy.h"
#include "harness.h"

#define PS	4096u


/* ---------------------------------------------------------------------- */
/* Memory regions */

struct memreg {
	uint8_t *mem;
	uint64_t npages;
	uint64_t *dirty;	/* what the next harvest reports */
	bool committed, discarded;
};

static int m_track_start(struct migd_region *r)
{
	(void)r;
	return 0;
}

static int m_harvest(struct migd_region *r, uint64_t first, uint64_t n, uint64_t *bitmap,
		     uint64_t *nr_dirty)
{
	struct memreg *m = r->priv;

	*nr_dirty = 0;
	for (uint64_t w = 0; w < (n + 63) / 64; w++) {
		*nr_dirty += __builtin_popcountll(m->dirty[first / 64 + w] & ~bitmap[w]);
		bitmap[w] |= m->dirty[first / 64 + w];
		m->dirty[first / 64 + w] = 0;
	}
	return 0;
}

static int m_read(struct migd_region *r, uint64_t first, uint64_t n, void *buf)
{
	struct memreg *m = r->priv;

	memcpy(buf, m->mem + first * PS, n * PS);
	return 0;
}

static int m_prepare(struct migd_region *r, uint64_t npages)
{
	return npages == r->npages ? 0 : -EMSGSIZE;
}

static int m_write(struct migd_region *r, uint64_t first, uint64_t n, const void *buf)
{
	struct memreg *m = r->priv;

	if (buf)
		memcpy(m->mem + first * PS, buf, n * PS);
	else
		memset(m->mem + first * PS, 0, n * PS);
	return 0;
}

static int m_commit(struct migd_region *r)
{
	((struct memreg *)r->priv)->committed = true;
	return 0;
}

static void m_discard(struct migd_region *r)
{
	((struct memreg *)r->priv)->discarded = true;
}

static void m_close(struct migd_region *r)
{
	(void)r;
}

static const struct migd_region_ops src_ops = {
	.track_start = m_track_start,
	.harvest = m_harvest,
	.read_pages = m_read,
	.close = m_close,
};

static const struct migd_region_ops dst_ops = {
	.prepare = m_prepare,
	.write_pages = m_write,
	.commit = m_commit,
	.discard = m_discard,
	.close = m_close,
};

static void memreg_init(struct memreg *m, struct migd_region *r, const char *name,
			uint64_t npages, bool source, unsigned int seed)
{
	memset(m, 0, sizeof(*m));
	m->npages = npages;
	m->mem = calloc(npages, PS);
	m->dirty = calloc((npages + 63) / 64, 8);
	for (uint64_t p = 0; source && p < npages; p++) {
		/* Every fourth page stays zero. */
		if (p % 4)
			memset(m->mem + p * PS, (int)((p * 7 + seed) & 0xff) | 1, PS);
	}
	memset(r, 0, sizeof(*r));
	r->ops = source ? &src_ops : &dst_ops;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->page_size = PS;
	r->npages = npages;
	r->path = name;
	r->priv = m;
}

static void memreg_free(struct memreg *m)
{
	free(m->mem);
	free(m->dirty);
}

/* ---------------------------------------------------------------------- */
/* The VMM on each side */

struct dst_vmm;

struct src_vmm {
	int pauses, resumes, handovers, gets, checks;
	int switchovers, switchover_err;
	/* What the destination had done when switchover() ran. */
	bool committed_at_switchover;
	int arrives_at_switchover;
	struct memreg *dst_m;
	struct dst_vmm *dv;
	int check_fail_at;		/* make the Nth check fail (VM gone) */
	int get_err;
	struct memreg *dirty_on_pause;	/* pages written just before the pause */
	struct migd_state blobs;	/* what get_state returns */
	char error[128];
};

static int s_pause(void *opaque, int timeout_ms, int (*check)(void *arg), void *arg)
{
	struct src_vmm *v = opaque;

	(void)timeout_ms;
	(void)check;
	(void)arg;
	v->pauses++;
	if (v->dirty_on_pause) {
		memset(v->dirty_on_pause->mem + 5 * PS, 0xee, PS);
		v->dirty_on_pause->dirty[0] |= 1ull << 5;
	}
	return 0;
}

static void s_resume(void *opaque)
{
	((struct src_vmm *)opaque)->resumes++;
}

static void s_handed_over(void *opaque)
{
	((struct src_vmm *)opaque)->handovers++;
}

static int s_get_state(void *opaque, struct migd_state *state)
{
	struct src_vmm *v = opaque;

	v->gets++;
	if (v->get_err) {
		snprintf(v->error, sizeof(v->error), "the blobs went missing");
		return v->get_err;
	}
	for (unsigned int i = 0; i < v->blobs.count; i++) {
		const struct migd_state_blob *b = &v->blobs.blobs[i];
		int ret;

		/* Appended, not replaced: the stream carries duplicates as they are. */
		ret = migd_state_put(state, &b->desc, b->data, b->len);
		if (ret)
			return ret;
	}
	return 0;
}

static int s_check(void *opaque)
{
	struct src_vmm *v = opaque;

	if (++v->checks == v->check_fail_at) {
		snprintf(v->error, sizeof(v->error), "session \"t\" ended: its VMM closed it");
		return -ENOENT;
	}
	return 0;
}

static const char *s_last_error(void *opaque)
{
	struct src_vmm *v = opaque;

	return v->error[0] ? v->error : NULL;
}

struct dst_vmm {
	struct migd_region *regions;
	unsigned int nregions;
	int binds, arrives, aborts, checks;
	int arrive_err;
	bool committed_before_arrive;
	struct memreg *mr;
	struct migd_state got;		/* copied in arrive() */
	char error[128];
};

static int d_bind(void *opaque, const struct kvmmig_stream_region *src, unsigned int n,
		  struct migd_region **regions, unsigned int *nregions)
{
	struct dst_vmm *v = opaque;

	(void)src;
	(void)n;
	v->binds++;
	*regions = v->regions;
	*nregions = v->nregions;
	return 0;
}

static int d_check(void *opaque)
{
	((struct dst_vmm *)opaque)->checks++;
	return 0;
}

static int d_arrive(void *opaque, const struct migd_state *state, int timeout_ms,
		    int (*check)(void *arg), void *arg)
{
	struct dst_vmm *v = opaque;

	(void)timeout_ms;
	(void)check;
	(void)arg;
	v->arrives++;
	v->committed_before_arrive = v->mr->committed;
	for (unsigned int i = 0; i < state->count; i++)
		migd_state_put(&v->got, &state->blobs[i].desc, state->blobs[i].data,
			       state->blobs[i].len);
	if (v->arrive_err) {
		snprintf(v->error, sizeof(v->error), "the VMM did not take over in 1 s");
		return v->arrive_err;
	}
	return 0;
}

static int s_switchover(void *opaque, int timeout_ms, int (*check)(void *arg), void *arg)
{
	struct src_vmm *v = opaque;

	(void)timeout_ms;
	v->switchovers++;
	v->committed_at_switchover = v->dst_m->committed;
	v->arrives_at_switchover = v->dv->arrives;
	if (check && check(arg))
		return -ECANCELED;
	if (v->switchover_err) {
		snprintf(v->error, sizeof(v->error), "QEMU wrote 3 pages of guest RAM after the guest stopped");
		return v->switchover_err;
	}
	return 0;
}

static void d_abort(void *opaque)
{
	((struct dst_vmm *)opaque)->aborts++;
}

static const char *d_last_error(void *opaque)
{
	struct dst_vmm *v = opaque;

	return v->error[0] ? v->error : NULL;
}

/* ---------------------------------------------------------------------- */
/* One migration */

struct run {
	/* source */
	struct migd_region src_r;
	struct memreg src_m;
	struct src_vmm sv;
	struct migd_vm_ops vm;
	struct migd_stats sst;
	int sret;
	/* destination */
	struct migd_region dst_r;
	struct memreg dst_m;
	struct dst_vmm dv;
	struct migd_dest_ops dest;
	struct migd_stats dst;
	int dret;
	int fds[2];
	bool tcp;	/* a loopback TCP connection, not a socketpair */
};

static void run_init(struct run *r, uint64_t npages, uint64_t dst_npages)
{
	memset(r, 0, sizeof(*r));
	memreg_init(&r->src_m, &r->src_r, "ram", npages, true, 3);
	memreg_init(&r->dst_m, &r->dst_r, "ram", dst_npages, false, 0);
	r->vm = (struct migd_vm_ops){
		.pause = s_pause,
		.resume = s_resume,
		.handed_over = s_handed_over,
		.get_state = s_get_state,
		.check = s_check,
		.last_error = s_last_error,
		.opaque = &r->sv,
	};
	r->dv.regions = &r->dst_r;
	r->dv.nregions = 1;
	r->dv.mr = &r->dst_m;
	r->sv.dst_m = &r->dst_m;
	r->sv.dv = &r->dv;
	r->dest = (struct migd_dest_ops){
		.bind = d_bind,
		.check = d_check,
		.arrive = d_arrive,
		.abort = d_abort,
		.last_error = d_last_error,
		.opaque = &r->dv,
	};
}

static void run_free(struct run *r)
{
	memreg_free(&r->src_m);
	memreg_free(&r->dst_m);
	migd_state_free(&r->sv.blobs);
	migd_state_free(&r->dv.got);
}

static void *source_main(void *arg)
{
	struct run *r = arg;
	struct migd_send_opts so = {
		.policy = { .downtime_ns = 300 * MIGD_NSEC_PER_MSEC, .max_rounds = 5,
			    .stall_rounds = 4 },
		.pause_timeout_ms = 1000,
	};
	struct migd_conn conn;

	migd_conn_init(&conn, r->fds[0], 10000, 0, NULL);
	r->sret = migd_precopy_send(&r->src_r, 1, &r->vm, &conn, &so, &r->sst);
	close(r->fds[0]);
	return NULL;
}

static void *dest_main(void *arg)
{
	struct run *r = arg;
	struct migd_recv_opts ro = { .dest = &r->dest, .ack_timeout_ms = 1000 };
	struct migd_conn conn;

	migd_conn_init(&conn, r->fds[1], 10000, 0, NULL);
	r->dret = migd_precopy_recv(NULL, 0, &conn, &ro, &r->dst);
	close(r->fds[1]);
	return NULL;
}

/* What migd uses: resets exist only on TCP. */
static int tcp_pair(int fds[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len))
		return -1;
	fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fds[0] < 0 || connect(fds[0], (struct sockaddr *)&a, sizeof(a)))
		return -1;
	fds[1] = accept(l, NULL, NULL);
	close(l);
	return fds[1] < 0 ? -1 : 0;
}

static void migrate(struct run *r)
{
	pthread_t s, d;

	if (r->tcp ? tcp_pair(r->fds) :
		     socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, r->fds)) {
		perror("socketpair");
		exit(2);
	}
	pthread_create(&d, NULL, dest_main, r);
	pthread_create(&s, NULL, source_main, r);
	pthread_join(s, NULL);
	pthread_join(d, NULL);
	if (verbose)
		printf("# source: %d \"%s\"; destination: %d \"%s\"\n", r->sret, r->sst.error,
		       r->dret, r->dst.error);
}

static void add_blob(struct migd_state *s, uint32_t kind, uint32_t instance,
		     const char *name, uint64_t len, int fill)
{
	struct kvmmig_stream_state_desc d = { .kind = kind, .instance = instance };
	uint8_t *data = malloc(len);

	for (uint64_t i = 0; i < len; i++)
		data[i] = (uint8_t)(fill + i * 13);
	snprintf(d.name, sizeof(d.name), "%s", name);
	migd_state_put_owned(s, &d, data, len);
}

/* @s has a blob like add_blob(kind, instance, name, len, fill) made. */
static bool has_blob(const struct migd_state *s, uint32_t kind, uint32_t instance,
		     const char *name, uint64_t len, int fill)
{
	for (unsigned int i = 0; i < s->count; i++) {
		const struct migd_state_blob *b = &s->blobs[i];

		if (b->desc.kind != kind || b->desc.instance != instance ||
		    strcmp(b->desc.name, name) || b->len != len)
			continue;
		for (uint64_t j = 0; j < len; j++)
			if (b->data[j] != (uint8_t)(fill + j * 13))
				return false;
		return true;
	}
	return false;
}

/* ---------------------------------------------------------------------- */
/* Tests */

static void test_state_set(void)
{
	struct migd_state s = { 0 };
	char buf[16];

	add_blob(&s, KVMMIG_STATE_VCPU, 0, "regs", 100, 1);
	add_blob(&s, KVMMIG_STATE_VCPU, 1, "regs", 100, 2);
	add_blob(&s, KVMMIG_STATE_DEVICE, 0, "regs", 50, 3);
	CHECK_EQ(s.count, 3);
	CHECK_EQ(s.bytes, 250);
	/* Same kind, instance and name: the later one replaces it, in place. */
	add_blob(&s, KVMMIG_STATE_VCPU, 1, "regs", 10, 4);
	CHECK_EQ(s.count, 3);
	CHECK_EQ(s.bytes, 160);
	CHECK(has_blob(&s, KVMMIG_STATE_VCPU, 1, "regs", 10, 4));
	CHECK_EQ(s.blobs[1].desc.instance, 1);
	CHECK(!strcmp(migd_state_kind_name(KVMMIG_STATE_NESTED, buf, sizeof(buf)), "nested"));
	CHECK(!strcmp(migd_state_kind_name(9, buf, sizeof(buf)), "kind 9"));
	migd_state_free(&s);
	CHECK_EQ(s.count, 0);
}

/* Pages and blobs arrive; the VMM is handed the state after the commit. */
static void test_state_both_ways(void)
{
	struct run r;

	run_init(&r, 256, 256);
	r.sv.dirty_on_pause = &r.src_m;
	add_blob(&r.sv.blobs, KVMMIG_STATE_VCPU, 0, "cpu0", 1000, 1);
	add_blob(&r.sv.blobs, KVMMIG_STATE_VCPU, 1, "cpu1", 32768, 2);
	add_blob(&r.sv.blobs, KVMMIG_STATE_DEVICE, 7, "", 1, 3);
	/* Over MAX_BODY: goes out in two STATE chunks and is put together. */
	add_blob(&r.sv.blobs, KVMMIG_STATE_DEVICE, 8, "vga", (16u << 20) + 5000, 4);
	migrate(&r);
	CHECK_EQ(r.sret, 0);
	CHECK_EQ(r.dret, 0);
	CHECK(!memcmp(r.src_m.mem, r.dst_m.mem, 256 * PS));
	CHECK_EQ(r.dst_m.mem[5 * PS], 0xee);	/* written while paused */
	CHECK_EQ(r.sv.pauses, 1);
	CHECK_EQ(r.sv.gets, 1);
	CHECK_EQ(r.sv.handovers, 1);
	CHECK_EQ(r.sv.resumes, 0);
	CHECK(r.sv.checks >= 1);
	CHECK_EQ(r.dv.binds, 1);
	CHECK_EQ(r.dv.arrives, 1);
	CHECK_EQ(r.dv.aborts, 0);
	CHECK(r.dv.committed_before_arrive);
	CHECK_EQ(r.dv.got.count, 4);
	CHECK(has_blob(&r.dv.got, KVMMIG_STATE_VCPU, 0, "cpu0", 1000, 1));
	CHECK(has_blob(&r.dv.got, KVMMIG_STATE_VCPU, 1, "cpu1", 32768, 2));
	CHECK(has_blob(&r.dv.got, KVMMIG_STATE_DEVICE, 7, "", 1, 3));
	CHECK(has_blob(&r.dv.got, KVMMIG_STATE_DEVICE, 8, "vga", (16u << 20) + 5000, 4));
	CHECK_EQ(r.sst.state_blobs, 4);
	CHECK_EQ(r.dst.state_blobs, 4);
	CHECK_EQ(r.dst.state_bytes, r.sst.state_bytes);
	CHECK_EQ(r.dst.zero_pages, r.sst.zero_pages);
	CHECK(r.sst.zero_pages >= 64);
	run_free(&r);
}

/* A blob sent twice: the destination's VMM gets the later one only. */
static void test_state_replaced(void)
{
	struct run r;

	run_init(&r, 64, 64);
	add_blob(&r.sv.blobs, KVMMIG_STATE_VCPU, 2, "x", 64, 5);
	add_blob(&r.sv.blobs, KVMMIG_STATE_VCPU, 3, "x", 64, 9);
	/* Two blobs of one key on the source; put() would have merged them. */
	r.sv.blobs.blobs[1].desc.instance = 2;
	migrate(&r);
	CHECK_EQ(r.sret, 0);
	CHECK_EQ(r.dret, 0);
	CHECK_EQ(r.dv.got.count, 1);
	CHECK(has_blob(&r.dv.got, KVMMIG_STATE_VCPU, 2, "x", 64, 9));
	run_free(&r);
}

/* The VMM here takes 32 KiB blobs: a bigger one fails the migration early. */
static void test_state_too_big(void)
{
	struct run r;

	run_init(&r, 64, 64);
	r.dest.max_state_blob = 32768;
	add_blob(&r.sv.blobs, KVMMIG_STATE_VCPU, 0, "big", 40000, 1);
	migrate(&r);
	CHECK(r.dret < 0);
	CHECK_STR(r.dst.error, "state blob vcpu 0 \"big\" has 40000 bytes, the VMM here takes at most 32768");
	CHECK_EQ(r.dv.arrives, 0);
	CHECK_EQ(r.dv.aborts, 1);
	CHECK(r.dst_m.discarded);
	CHECK(r.sret < 0);
	CHECK_EQ(r.sv.resumes, 1);
	CHECK_EQ(r.sv.handovers, 0);
	run_free(&r);
}

static void test_state_too_many(void)
{
	struct run r;

	run_init(&r, 64, 64);
	r.dest.max_state_blobs = 2;
	for (int i = 0; i < 3; i++)
		add_blob(&r.sv.blobs, KVMMIG_STATE_VCPU, i, "c", 8, i);
	migrate(&r);
	CHECK(r.dret < 0);
	CHECK_STR(r.dst.error, "more than 2 state blobs");
	CHECK_EQ(r.dv.aborts, 1);
	CHECK_EQ(r.sv.resumes, 1);
	run_free(&r);
}

/* The VMM here never takes over: abort here, the VM runs on at the source. */
static void test_arrive_fails(void)
{
	struct run r;

	run_init(&r, 64, 64);
	add_blob(&r.sv.blobs, KVMMIG_STATE_VCPU, 0, "c", 8, 1);
	r.dv.arrive_err = -ETIMEDOUT;
	migrate(&r);
	CHECK_EQ(r.dret, -ETIMEDOUT);
	CHECK_STR(r.dst.error, "handing over to the VMM: the VMM did not take over in 1 s");
	CHECK_EQ(r.dv.arrives, 1);
	CHECK_EQ(r.dv.aborts, 1);
	CHECK(r.sret < 0);
	CHECK_STR(r.sst.error, "without confirming");
	CHECK_EQ(r.sv.resumes, 1);
	CHECK_EQ(r.sv.handovers, 0);
	run_free(&r);
}

/* The source's VM vanishes during pre-copy: a clear failure, nothing to resume. */
static void test_vm_gone(void)
{
	struct run r;

	run_init(&r, 64, 64);
	r.sv.check_fail_at = 1;
	migrate(&r);
	CHECK_EQ(r.sret, -ENOENT);
	CHECK_STR(r.sst.error, "session \"t\" ended: its VMM closed it");
	CHECK_EQ(r.sv.pauses, 0);
	CHECK_EQ(r.sv.resumes, 0);
	CHECK(r.dret < 0);
	CHECK_EQ(r.dv.aborts, 1);
	run_free(&r);
}

static void test_get_state_fails(void)
{
	struct run r;

	run_init(&r, 64, 64);
	r.sv.get_err = -EIO;
	migrate(&r);
	CHECK_EQ(r.sret, -EIO);
	CHECK_STR(r.sst.error, "collecting the VM's state: the blobs went missing");
	CHECK_EQ(r.sv.resumes, 1);
	CHECK_EQ(r.sv.handovers, 0);
	CHECK_EQ(r.dv.aborts, 1);
	run_free(&r);
}

/* A blob the stream cannot carry (a space in its name) fails with its name. */
static void test_state_bad_name(void)
{
	struct run r;

	run_init(&r, 64, 64);
	add_blob(&r.sv.blobs, KVMMIG_STATE_DEVICE, 4, "a b", 8, 1);
	migrate(&r);
	CHECK(r.sret < 0);
	CHECK_STR(r.sst.error, "state blob 0 (device 4 \"a b\", 8 bytes) cannot be sent");
	CHECK_EQ(r.sv.resumes, 1);
	run_free(&r);
}

/* Destination memory of another size: refused before any page moves. */
static void test_size_mismatch(void)
{
	struct run r;

	run_init(&r, 64, 32);
	migrate(&r);
	CHECK(r.dret < 0);
	CHECK_STR(r.dst.error, "region \"ram\" (ram) has 131072 bytes, the source's 262144");
	CHECK_EQ(r.dv.binds, 1);
	CHECK_EQ(r.dv.aborts, 1);
	CHECK(r.sret < 0);
	CHECK_EQ(r.sv.pauses, 0);
	CHECK_EQ(r.sst.pages, 0);
	run_free(&r);
}

/*
 * The barrier: switchover() runs when every page is committed at the
 * destination and before its VMM takes the VM; the VMM takes it after.
 */
static void test_switchover_order(void)
{
	struct run r;

	run_init(&r, 64, 64);
	r.tcp = true;
	r.vm.switchover = s_switchover;
	migrate(&r);
	CHECK_EQ(r.sret, 0);
	CHECK_EQ(r.dret, 0);
	CHECK_EQ(r.sv.switchovers, 1);
	CHECK(r.sv.committed_at_switchover);
	CHECK_EQ(r.sv.arrives_at_switchover, 0);
	CHECK_EQ(r.dv.arrives, 1);
	CHECK_EQ(r.sv.handovers, 1);
	CHECK_EQ(r.sv.resumes, 0);
	CHECK(!memcmp(r.src_m.mem, r.dst_m.mem, 64 * PS));
	run_free(&r);
}

/*
 * A failed switch-over: the source resumes, and the destination, which had
 * every page, sees a reset instead of the end of stream and never hands
 * the VM to its VMM.
 */
static void test_switchover_fails(void)
{
	struct run r;

	run_init(&r, 64, 64);
	r.tcp = true;
	r.vm.switchover = s_switchover;
	r.sv.switchover_err = -EIO;
	migrate(&r);
	CHECK_EQ(r.sret, -EIO);
	CHECK_STR(r.sst.error, "at the switch-over: QEMU wrote 3 pages");
	CHECK_EQ(r.sv.resumes, 1);
	CHECK_EQ(r.sv.handovers, 0);
	CHECK(r.dret < 0);
	CHECK_STR(r.dst.error, "the source gave up at the switch-over");
	CHECK_EQ(r.dv.arrives, 0);
	CHECK_EQ(r.dv.aborts, 1);
	run_free(&r);
}

/*
 * A peer of the release before COMMITTED, on fd @fd: it never sets the
 * header flag and never sends the record.  As a destination it answers
 * the REGIONS and reads on; as a source it sends one stopped round and
 * END, half-closes and reads the answer, whose reader would reject a
 * COMMITTED it did not ask for.
 */
struct old_peer {
	int fd;
	bool source;
	int ret;		/* the old source's outcome */
	uint32_t types[8];	/* what it read back */
	unsigned int ntypes;
};

static void *old_peer_main(void *arg)
{
	struct old_peer *o = arg;
	static const struct kvmmig_stream_region reg = { .id = 0, .size = 4 * PS, .name = "ram" };
	struct kvmmig_stream_reader_opts ro = {
		.mode = o->source ? KVMMIG_STREAM_RETURN : KVMMIG_STREAM_FORWARD,
	};
	struct kvmmig_stream_writer *w = NULL;
	struct kvmmig_stream_reader *rd = NULL;
	struct kvmmig_stream_source src;
	struct kvmmig_stream_sink sink;
	struct kvmmig_stream_hdr hdr, got;
	struct kvmmig_stream_rec rec;
	struct migd_conn conn;
	int ret;

	migd_conn_init(&conn, o->fd, 10000, 0, NULL);
	migd_conn_sink(&conn, &sink);
	migd_conn_source(&conn, &src);
	kvmmig_stream_reader_new(&rd, &src, &ro);
	memset(&hdr, 0, sizeof(hdr));
	hdr.page_size = PS;
	if (o->source) {
		kvmmig_stream_new_id(hdr.migration_id);
		kvmmig_stream_writer_new(&w, &sink, &hdr, NULL);
		ret = kvmmig_stream_write_regions(w, &reg, 1);
		ret = ret ?: kvmmig_stream_write_round(w, 1, KVMMIG_ROUND_F_STOPPED, 0);
		ret = ret ?: kvmmig_stream_write_end(w);
		ret = ret ?: migd_conn_shutdown_write(&conn);
		ret = ret ?: kvmmig_stream_read_header(rd, &got);
	} else {
		ret = kvmmig_stream_read_header(rd, &got);
		ret = ret ?: kvmmig_stream_read_next(rd, &rec) == 1 ? 0 : -EPROTO;
		hdr.flags = KVMMIG_STREAM_F_RETURN;
		memcpy(hdr.migration_id, got.migration_id, 16);
		if (!ret)
			kvmmig_stream_writer_new(&w, &sink, &hdr, NULL);
		ret = ret ?: kvmmig_stream_write_regions(w, rec.regions.regions, rec.regions.count);
		ret = ret ?: kvmmig_stream_writer_flush(w);
	}
	while (!ret && (ret = kvmmig_stream_read_next(rd, &rec)) > 0) {
		if (o->ntypes < 8)
			o->types[o->ntypes++] = rec.type;
		ret = 0;
	}
	o->ret = ret;
	kvmmig_stream_writer_free(w);
	kvmmig_stream_reader_free(rd);
	close(o->fd);
	return NULL;
}

/* A VM that needs the switch-over is refused an old destination, unpaused. */
static void test_switchover_old_destination(void)
{
	struct old_peer o = { 0 };
	pthread_t s, d;
	struct run r;

	run_init(&r, 4, 4);
	r.tcp = true;
	r.vm.switchover = s_switchover;
	if (tcp_pair(r.fds)) {
		perror("tcp_pair");
		exit(2);
	}
	o.fd = r.fds[1];
	pthread_create(&d, NULL, old_peer_main, &o);
	pthread_create(&s, NULL, source_main, &r);
	pthread_join(s, NULL);
	pthread_join(d, NULL);
	CHECK_EQ(r.sret, -EPROTONOSUPPORT);
	CHECK_STR(r.sst.error, "does not confirm that the pages are in place");
	CHECK_EQ(r.sv.pauses, 0);
	CHECK_EQ(r.sv.switchovers, 0);
	CHECK_EQ(r.sv.resumes, 0);
	/* Without a switch-over a VM migrates to it as before. */
	run_free(&r);
	run_init(&r, 4, 4);
	r.tcp = true;
	memset(&o, 0, sizeof(o));
	if (tcp_pair(r.fds)) {
		perror("tcp_pair");
		exit(2);
	}
	o.fd = r.fds[1];
	pthread_create(&d, NULL, old_peer_main, &o);
	pthread_create(&s, NULL, source_main, &r);
	pthread_join(d, NULL);
	pthread_join(s, NULL);
	/* The old destination never confirms here (it only reads): END is its part. */
	CHECK_STR(r.sst.error, "without confirming");
	CHECK_EQ(o.ret, 0);
	CHECK_EQ(r.sv.pauses, 1);
	run_free(&r);
}

/* An old source is answered as before: no COMMITTED it did not ask for. */
static void test_switchover_old_source(void)
{
	struct old_peer o = { .source = true };
	struct run r;
	pthread_t s, d;

	run_init(&r, 4, 4);
	r.tcp = true;
	if (tcp_pair(r.fds)) {
		perror("tcp_pair");
		exit(2);
	}
	o.fd = r.fds[0];
	pthread_create(&d, NULL, dest_main, &r);
	pthread_create(&s, NULL, old_peer_main, &o);
	pthread_join(s, NULL);
	pthread_join(d, NULL);
	CHECK_EQ(r.dret, 0);
	CHECK_EQ(r.dv.arrives, 1);
	CHECK_EQ(o.ret, 0);
	CHECK_EQ(o.ntypes, 2);
	CHECK_EQ(o.types[0], KVMMIG_REC_REGIONS);
	CHECK_EQ(o.types[1], KVMMIG_REC_END);
	run_free(&r);
}

static const struct harness_test tests[] = {
#define T(fn) HARNESS_TEST(fn)
	T(test_state_set),
	T(test_state_both_ways),
	T(test_state_replaced),
	T(test_state_too_big),
	T(test_state_too_many),
	T(test_arrive_fails),
	T(test_vm_gone),
	T(test_get_state_fails),
	T(test_state_bad_name),
	T(test_size_mismatch),
	T(test_switchover_order),
	T(test_switchover_fails),
	T(test_switchover_old_destination),
	T(test_switchover_old_source),
#undef T
};

int main(int argc, char **argv)
{
	harness_init(argc, argv);
	migd_log_level = verbose ? MIGD_LOG_DEBUG : MIGD_LOG_ERR - 1;
	signal(SIGPIPE, SIG_IGN);
	return harness_run(tests, sizeof(tests) / sizeof(tests[0]));
}
