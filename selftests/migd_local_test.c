// SPDX-License-Identifier: GPL-2.0
/*
 * migd end to end on one host, over 127.0.0.1: this test is a minimal VMM
 * without KVM.  It creates regions, fills them with a pattern, makes a
 * source session and an incoming one with the same region names, and a
 * writer thread keeps dirtying the source until it is paused.  A VMM
 * thread per session follows the session's state: on PAUSING it stops
 * the writer, keeps a copy of the memory, puts its state blobs and
 * acknowledges; on RUNNING after a pause it lets the writer go again; on
 * ARRIVED (destination) it collects the blobs and acknowledges.  migd
 * runs as real child processes (/usr/bin/migd, or $MIGD).
 *
 * The two-VM migrations of a real KVM guest are migrate_pair_test's; this
 * test proves migd itself: the pages and blobs that arrive, and that
 * every failure leaves the source running and the destination aborted.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvmmig_util.h"
#include "migd_proc.h"
#include "session_util.h"

#define PAGE		4096UL
#define MAX_REGIONS	2
#define MAX_BLOBS	8
#define WAIT_MS		60000
#define SRC_NAME	"mlt_src"
#define DST_NAME	"mlt_dst"

/* ---------------------------------------------------------------------- */
/* State blobs */

/* The state blobs the source VMM puts: two vCPUs and a device at the limit. */
static const struct {
	__u32 kind, instance;
	const char *name;
	__u32 size;
} blob_defs[] = {
	{ KVMMIG_BLOB_VCPU, 0, "regs", 1500 },
	{ KVMMIG_BLOB_VCPU, 1, "regs", 1500 },
	{ KVMMIG_BLOB_DEVICE, 0, "vga", KVMMIG_BLOB_MAX_SIZE },
};
#define NR_BLOBS	(sizeof(blob_defs) / sizeof(blob_defs[0]))

static void blob_fill(uint8_t *buf, unsigned int i)
{
	for (__u32 j = 0; j < blob_defs[i].size; j++)
		buf[j] = (uint8_t)(i * 77 + j * 31 + (j >> 8));
}

static int __put_blobs(int sfd)
{
	uint8_t *buf = malloc(KVMMIG_BLOB_MAX_SIZE);
	int ret = 0;

	for (unsigned int i = 0; !ret && i < NR_BLOBS; i++) {
		struct kvmmig_session_blob b = {
			.kind = blob_defs[i].kind,
			.instance = blob_defs[i].instance,
			.size = blob_defs[i].size,
			.data = (uintptr_t)buf,
		};

		blob_fill(buf, i);
		snprintf(b.name, sizeof(b.name), "%s", blob_defs[i].name);
		if (ioctl(sfd, KVMMIG_SESSION_PUT_BLOB, &b))
			ret = -errno;
	}
	free(buf);
	return ret;
}

struct got_blob {
	__u32 kind, instance, size;
	char name[KVMMIG_BLOB_NAME_LEN];
	uint8_t *data;
};

/* ---------------------------------------------------------------------- */
/* The test VMM: one per session */

struct side {
	int dev;
	bool incoming;
	const char *name;
	__u32 id;
	int sfd;
	unsigned int nreg;
	int reg_fd[MAX_REGIONS];
	uint8_t *map[MAX_REGIONS];
	size_t size[MAX_REGIONS];

	pthread_t vmm;
	bool vmm_started;
	bool no_writer;			/* a guest that does not write */
	int ack_delay_ms;		/* wait this long before acknowledging a pause */
	bool close_on_pause;		/* instead: close the session fd (VMM exits) */
	int close_now;			/* close the session fd now (VMM exits) */
	/* Seen by the VMM thread (atomics). */
	__u32 state;
	int pausing_seen, resumes, done, aborted, arrived_running;
	int quit;
	int error;			/* an ioctl the VMM made failed */
	uint8_t *snap[MAX_REGIONS];	/* source memory at pause time */
	struct got_blob got[MAX_BLOBS];
	int ngot;

	/* The guest: writes pages of the source until paused. */
	pthread_t writer;
	bool writer_started;
	int hold, held, stop;
	uint64_t writes;
};

#define LOAD(x)		__atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define STORE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_SEQ_CST)
#define INC(x)		__atomic_add_fetch(&(x), 1, __ATOMIC_SEQ_CST)

static void *writer_main(void *arg)
{
	struct side *s = arg;
	uint64_t x = 88172645463325252ULL, n = 0;

	while (!LOAD(s->stop)) {
		unsigned int r;
		size_t page;

		if (LOAD(s->hold)) {
			STORE(s->held, 1);
			while (LOAD(s->hold) && !LOAD(s->stop))
				kvmmig_sleep_ms(1);
			STORE(s->held, 0);
			continue;
		}
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		r = x % s->nreg;
		/* Half the writes on a hot sixteenth, as guests do. */
		page = (x >> 8) % (s->size[r] / PAGE / ((x & 1) ? 16 : 1));
		*(volatile uint64_t *)(s->map[r] + page * PAGE + ((x >> 40) % (PAGE / 8)) * 8) =
			++n;
		STORE(s->writes, n);
		if (!(n % 16))
			kvmmig_sleep_ms(1);
	}
	return NULL;
}

/* Stops the writer at a write boundary; true once it has. */
static bool writer_hold(struct side *s)
{
	uint64_t end = kvmmig_now_ms() + WAIT_MS;

	STORE(s->hold, 1);
	while (s->writer_started && !LOAD(s->held) && kvmmig_now_ms() < end)
		kvmmig_sleep_ms(1);
	return !s->writer_started || LOAD(s->held);
}

/* Has the writer made @n more writes within a while? */
static bool writer_runs(struct side *s, uint64_t n)
{
	uint64_t start = LOAD(s->writes), end = kvmmig_now_ms() + WAIT_MS;

	while (kvmmig_now_ms() < end) {
		if (LOAD(s->writes) >= start + n)
			return true;
		kvmmig_sleep_ms(5);
	}
	return false;
}

static void source_pausing(struct side *s)
{
	int ret;

	INC(s->pausing_seen);
	if (LOAD(s->close_on_pause)) {
		close(s->sfd);
		s->sfd = -1;
		STORE(s->quit, 1);
		return;
	}
	if (!writer_hold(s)) {
		STORE(s->error, -ETIMEDOUT);
		return;
	}
	/* A guest that does not write needs no copy (it would add to the pause). */
	for (unsigned int i = 0; !s->no_writer && i < s->nreg; i++)
		memcpy(s->snap[i], s->map[i], s->size[i]);
	ret = __put_blobs(s->sfd);
	/* EBUSY: migd has given up on the pause already (it resumed us). */
	if (ret && ret != -EBUSY) {
		STORE(s->error, ret);
		return;
	}
	if (s->ack_delay_ms)
		kvmmig_sleep_ms(s->ack_delay_ms);
	/* ESTALE: migd has resumed us meanwhile; the next state says so. */
	if (kvmmig_session_ack(s->sfd, KVMMIG_SESSION_PAUSING) == -EINVAL)
		STORE(s->error, -EINVAL);
}

static void dest_arrived(struct side *s)
{
	uint8_t *buf = malloc(KVMMIG_BLOB_MAX_SIZE);
	int ret;

	for (int i = 0; i < MAX_BLOBS; i++) {
		struct kvmmig_session_blob b = {
			.index = i,
			.size = KVMMIG_BLOB_MAX_SIZE,
			.data = (uintptr_t)buf,
		};
		struct got_blob *g = &s->got[i];

		if (ioctl(s->sfd, KVMMIG_SESSION_GET_BLOB, &b)) {
			if (errno != ENOENT)
				STORE(s->error, -errno);
			break;
		}
		g->kind = b.kind;
		g->instance = b.instance;
		g->size = b.size;
		memcpy(g->name, b.name, sizeof(g->name));
		g->data = malloc(b.size);
		memcpy(g->data, buf, b.size);
		s->ngot = i + 1;
	}
	free(buf);
	ret = kvmmig_session_ack(s->sfd, KVMMIG_SESSION_ARRIVED);
	if (ret)
		STORE(s->error, ret);
}

static void *vmm_main(void *arg)
{
	struct side *s = arg;
	__u32 last = 0;

	while (!LOAD(s->quit)) {
		struct pollfd pfd = { .fd = s->sfd, .events = POLLIN };
		__u32 state;
		int ret;

		if (LOAD(s->close_now)) {
			close(s->sfd);
			s->sfd = -1;
			break;
		}
		if (poll(&pfd, 1, 50) < 0 && errno != EINTR)
			break;
		ret = kvmmig_session_state(s->sfd);
		if (ret < 0) {
			STORE(s->error, ret);
			break;
		}
		state = ret;
		STORE(s->state, state);
		if (state == last)
			continue;
		switch (state) {
		case KVMMIG_SESSION_PAUSING:
			source_pausing(s);
			break;
		case KVMMIG_SESSION_RUNNING:
			if (s->incoming) {
				STORE(s->arrived_running, 1);
				STORE(s->quit, 1);
			} else if (last == KVMMIG_SESSION_PAUSING ||
				   last == KVMMIG_SESSION_PAUSED) {
				INC(s->resumes);
				STORE(s->hold, 0);
			}
			break;
		case KVMMIG_SESSION_ARRIVED:
			dest_arrived(s);
			break;
		case KVMMIG_SESSION_DONE:
			/* Handed over: the guest never runs here again. */
			STORE(s->done, 1);
			STORE(s->stop, 1);
			STORE(s->quit, 1);
			break;
		case KVMMIG_SESSION_ABORTED:
			STORE(s->aborted, 1);
			STORE(s->quit, 1);
			break;
		}
		last = state;
	}
	return NULL;
}

/* Regions of @sizes named ram0, ram1, the source's filled with a pattern. */
static int __side_init(struct side *s, int dev, const char *name, bool incoming,
		       const size_t *sizes, unsigned int nreg)
{
	bool no_writer = s->no_writer;
	int ret;

	memset(s, 0, sizeof(*s));
	s->no_writer = no_writer;
	s->dev = dev;
	s->name = name;
	s->incoming = incoming;
	s->sfd = -1;
	s->nreg = nreg;
	for (unsigned int i = 0; i < nreg; i++) {
		char rname[16];

		snprintf(rname, sizeof(rname), "ram%u", i);
		s->size[i] = sizes[i];
		s->reg_fd[i] = kvmmig_region(dev, sizes[i], rname, -1);
		if (s->reg_fd[i] < 0)
			return s->reg_fd[i];
		s->map[i] = mmap(NULL, sizes[i], PROT_READ | PROT_WRITE, MAP_SHARED,
				 s->reg_fd[i], 0);
		if (s->map[i] == MAP_FAILED) {
			s->map[i] = NULL;
			return -errno;
		}
		s->snap[i] = malloc(sizes[i]);
		if (!s->snap[i])
			return -ENOMEM;
		/* Every eighth page stays zero: zero-page entries on the wire. */
		for (size_t p = 0; !incoming && p < sizes[i] / PAGE; p++)
			if (p % 8)
				memset(s->map[i] + p * PAGE, (int)(p * 13 + i) | 1, PAGE);
	}
	ret = kvmmig_session(dev, name, incoming ? KVMMIG_SESSION_F_INCOMING : 0,
			     s->reg_fd, nreg, &s->id);
	if (ret < 0)
		return ret;
	s->sfd = ret;
	if (pthread_create(&s->vmm, NULL, vmm_main, s))
		return -EAGAIN;
	s->vmm_started = true;
	if (!incoming && !s->no_writer) {
		if (pthread_create(&s->writer, NULL, writer_main, s))
			return -EAGAIN;
		s->writer_started = true;
	}
	return 0;
}

static void side_fini(struct side *s)
{
	STORE(s->quit, 1);
	STORE(s->stop, 1);
	if (s->vmm_started)
		pthread_join(s->vmm, NULL);
	if (s->writer_started)
		pthread_join(s->writer, NULL);
	if (s->sfd >= 0)
		close(s->sfd);
	for (unsigned int i = 0; i < s->nreg; i++) {
		if (s->map[i])
			munmap(s->map[i], s->size[i]);
		if (s->reg_fd[i] > 0)
			close(s->reg_fd[i]);
		free(s->snap[i]);
	}
	for (int i = 0; i < s->ngot; i++)
		free(s->got[i].data);
	memset(s, 0, sizeof(*s));
	s->sfd = -1;
}

/* Waits for the VMM thread to see @state; false after WAIT_MS. */
static bool side_wait(struct side *s, __u32 state)
{
	uint64_t end = kvmmig_now_ms() + WAIT_MS;

	while (kvmmig_now_ms() < end) {
		if (LOAD(s->state) == state)
			return true;
		kvmmig_sleep_ms(2);
	}
	return false;
}

/* The session's state now, by GET_INFO (the VMM thread may have quit). */
static __u32 side_state(struct side *s)
{
	int state = s->sfd < 0 ? -EBADF : kvmmig_session_state(s->sfd);

	return state < 0 ? 0 : state;
}

/* ---------------------------------------------------------------------- */

/* migd and its shared libraries are in place and it runs. */
TEST(migd_runs)
{
	struct migd_proc p = { 0 };

	ASSERT_EQ(0, access(migd_path(), X_OK))
		TH_LOG("no migd at %s: %s", migd_path(), strerror(errno));
	migd_spawn(&p, "version", "--version");
	ASSERT_EQ(0, migd_wait(&p, WAIT_MS)) TH_LOG("%s", slurp(p.log));
	ASSERT_TRUE(file_has(p.out, "migd ")) TH_LOG("%s", slurp(p.out));
}

FIXTURE(migd) {
	int dev;
	struct side src, dst, other;
	struct migd_proc s, d, c;
};

static const size_t src_sizes[MAX_REGIONS] = { 32 << 20, 1 << 20 };

FIXTURE_SETUP(migd)
{
	int ret;

	memset(self, 0, sizeof(*self));
	self->src.sfd = self->dst.sfd = self->other.sfd = -1;
	ASSERT_EQ(0, access(migd_path(), X_OK))
		TH_LOG("no migd at %s: %s", migd_path(), strerror(errno));
	self->dev = __kvmmig_open();
	ASSERT_LE(0, self->dev);
	ret = __side_init(&self->src, self->dev, SRC_NAME, false, src_sizes, MAX_REGIONS);
	ASSERT_EQ(0, ret) TH_LOG("source session: %s", strerror(-ret));
	/* The guest runs before migd starts. */
	ASSERT_TRUE(writer_runs(&self->src, 1000));
}

FIXTURE_TEARDOWN(migd)
{
	migd_kill(&self->s);
	migd_kill(&self->d);
	migd_kill(&self->c);
	side_fini(&self->src);
	side_fini(&self->dst);
	side_fini(&self->other);
	if (self->dev > 0)
		close(self->dev);
}

static void dump_logs(struct __test_metadata *_metadata, FIXTURE_DATA(migd) *self)
{
	struct migd_proc *ps[] = { &self->s, &self->d, &self->c };

	for (unsigned int i = 0; i < 3; i++) {
		if (!ps[i]->log[0])
			continue;
		TH_LOG("--- %s\n%s", ps[i]->log, slurp(ps[i]->log));
		TH_LOG("--- %s\n%s", ps[i]->out, slurp(ps[i]->out));
	}
}

#define EXPECT_LOG(p, text) \
	EXPECT_TRUE(file_has((p)->log, text)) TH_LOG("%s lacks \"%s\"", (p)->log, text)

static int dst_init(FIXTURE_DATA(migd) *self, const char *name, const size_t *sizes)
{
	return __side_init(&self->dst, self->dev, name, true, sizes, MAX_REGIONS);
}

/* The destination holds exactly the source's memory at pause time. */
static bool same_as_snapshot(struct side *src, struct side *dst)
{
	for (unsigned int i = 0; i < src->nreg; i++)
		if (memcmp(src->no_writer ? src->map[i] : src->snap[i], dst->map[i],
			   src->size[i]))
			return false;
	return true;
}

static bool blobs_intact(struct side *dst)
{
	uint8_t *want = malloc(KVMMIG_BLOB_MAX_SIZE);
	bool ok = dst->ngot == (int)NR_BLOBS;

	for (unsigned int i = 0; ok && i < NR_BLOBS; i++) {
		const struct got_blob *g = &dst->got[i];

		blob_fill(want, i);
		ok = g->kind == blob_defs[i].kind && g->instance == blob_defs[i].instance &&
		     !strcmp(g->name, blob_defs[i].name) && g->size == blob_defs[i].size &&
		     !memcmp(g->data, want, g->size);
	}
	free(want);
	return ok;
}

static void migrate_ok(struct __test_metadata *_metadata, FIXTURE_DATA(migd) *self,
		       const char *dest_args)
{
	char args[128];
	int port;

	snprintf(args, sizeof(args), "--json %s", dest_args);
	port = migd_start_dest(&self->d, args, WAIT_MS);
	ASSERT_LT(0, port) dump_logs(_metadata, self);
	migd_spawn(&self->s, "src", "--peer 127.0.0.1:%d --json -v %s", port, SRC_NAME);
	EXPECT_EQ(0, migd_wait(&self->s, WAIT_MS)) dump_logs(_metadata, self);
	EXPECT_EQ(0, migd_wait(&self->d, WAIT_MS)) dump_logs(_metadata, self);
	ASSERT_TRUE(side_wait(&self->src, KVMMIG_SESSION_DONE));
	ASSERT_TRUE(side_wait(&self->dst, KVMMIG_SESSION_RUNNING));
	EXPECT_EQ(1, LOAD(self->src.pausing_seen));
	EXPECT_EQ(0, LOAD(self->src.resumes));
	EXPECT_EQ(0, LOAD(self->src.error));
	EXPECT_EQ(0, LOAD(self->dst.error));
	EXPECT_TRUE(same_as_snapshot(&self->src, &self->dst));
	EXPECT_TRUE(blobs_intact(&self->dst));
	EXPECT_TRUE(file_has(self->s.out, "\"result\":\"ok\""));
	EXPECT_TRUE(file_has(self->s.out, "\"state_blobs\":3"));
	EXPECT_TRUE(file_has(self->d.out, "\"state_blobs\":3"));
	/* The session's pidfile is gone with its migd. */
	EXPECT_NE(0, access("/run/migd/" SRC_NAME ".pid", F_OK));
	TH_LOG("source: %s", slurp(self->s.out));
	TH_LOG("source log:\n%s", slurp(self->s.log));
}

/* The destination named; the VM arrives whole: memory, blobs, DONE at the source. */
TEST_F_TIMEOUT(migd, migrate_named_session, 180)
{
	ASSERT_EQ(0, dst_init(self, DST_NAME, src_sizes));
	migrate_ok(_metadata, self, DST_NAME);
	EXPECT_LOG(&self->d, "session \"" DST_NAME "\" runs the VM here");
}

/* No name: the one WAITING session with the source's regions is picked. */
TEST_F_TIMEOUT(migd, migrate_matching_session, 180)
{
	const size_t other[MAX_REGIONS] = { 16 << 20, 1 << 20 };

	ASSERT_EQ(0, __side_init(&self->other, self->dev, "mlt_other", true, other,
				 MAX_REGIONS));
	ASSERT_EQ(0, dst_init(self, DST_NAME, src_sizes));
	migrate_ok(_metadata, self, "");
	EXPECT_LOG(&self->d, "receiving into session \"" DST_NAME "\"");
	/* The other one was not touched. */
	EXPECT_EQ(KVMMIG_SESSION_WAITING, side_state(&self->other));
}

/*
 * After a failure the source session runs and its guest writes again, the
 * destination session is aborted, and migd exited 1.
 */
static void expect_source_runs_on(struct __test_metadata *_metadata,
				  FIXTURE_DATA(migd) *self)
{
	EXPECT_EQ(1, migd_wait(&self->s, WAIT_MS)) dump_logs(_metadata, self);
	EXPECT_TRUE(side_wait(&self->src, KVMMIG_SESSION_RUNNING));
	EXPECT_EQ(KVMMIG_SESSION_RUNNING, side_state(&self->src));
	EXPECT_TRUE(writer_runs(&self->src, 1000));
	EXPECT_EQ(0, LOAD(self->src.done));
	EXPECT_TRUE(side_wait(&self->dst, KVMMIG_SESSION_ABORTED)) dump_logs(_metadata, self);
	EXPECT_EQ(0, LOAD(self->dst.arrived_running));
	EXPECT_EQ(0, LOAD(self->src.error));
}

/* A destination migd for DST_NAME, and a source migd with @opts sending to it. */
static void start_migration(struct __test_metadata *_metadata, FIXTURE_DATA(migd) *self,
			    const char *opts)
{
	int port;

	ASSERT_EQ(0, dst_init(self, DST_NAME, src_sizes));
	port = migd_start_dest(&self->d, DST_NAME, WAIT_MS);
	ASSERT_LT(0, port) dump_logs(_metadata, self);
	migd_spawn(&self->s, "src", "--peer 127.0.0.1:%d %s %s", port, opts, SRC_NAME);
}

/* Starts a migration slow enough (a bandwidth cap) to break in the middle. */
static void start_slow(struct __test_metadata *_metadata, FIXTURE_DATA(migd) *self)
{
	start_migration(_metadata, self, "-v --bwlimit 8");
	ASSERT_TRUE(side_wait(&self->dst, KVMMIG_SESSION_RECEIVING)) dump_logs(_metadata, self);
	/* Some pages on the way, not all: 33 MiB take four seconds. */
	kvmmig_sleep_ms(500);
}

TEST_F_TIMEOUT(migd, dest_killed_mid_stream, 180)
{
	start_slow(_metadata, self);
	EXPECT_EQ(0, LOAD(self->src.pausing_seen));
	kill(self->d.pid, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, migd_wait(&self->d, WAIT_MS));
	expect_source_runs_on(_metadata, self);
	EXPECT_LOG(&self->s, "the destination closed the connection");
	EXPECT_EQ(0, LOAD(self->src.pausing_seen));
}

/*
 * Starts a migration and waits until the source's VMM is asked to pause,
 * which it takes three seconds to acknowledge.
 */
static void start_pausing(struct __test_metadata *_metadata, FIXTURE_DATA(migd) *self)
{
	self->src.ack_delay_ms = 3000;
	start_migration(_metadata, self, "-v");
	ASSERT_TRUE(side_wait(&self->src, KVMMIG_SESSION_PAUSING)) dump_logs(_metadata, self);
}

/* Killed while the source waits for its VMM to pause: resumed, writes again. */
TEST_F_TIMEOUT(migd, dest_killed_during_pause, 180)
{
	start_pausing(_metadata, self);
	kill(self->d.pid, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, migd_wait(&self->d, WAIT_MS));
	expect_source_runs_on(_metadata, self);
	EXPECT_LOG(&self->s, "while pausing the VM: the destination closed the connection");
	EXPECT_EQ(1, LOAD(self->src.resumes));
}

TEST_F_TIMEOUT(migd, cancel_mid_stream, 180)
{
	start_slow(_metadata, self);
	migd_spawn(&self->c, "cancel", "--cancel %s", SRC_NAME);
	EXPECT_EQ(0, migd_wait(&self->c, WAIT_MS)) dump_logs(_metadata, self);
	EXPECT_LOG(&self->c, "has stopped");
	expect_source_runs_on(_metadata, self);
	EXPECT_LOG(&self->s, "cancelled");
	EXPECT_EQ(1, migd_wait(&self->d, WAIT_MS));
	EXPECT_NE(0, access("/run/migd/" SRC_NAME ".pid", F_OK));
}

TEST_F_TIMEOUT(migd, cancel_during_pause, 180)
{
	start_pausing(_metadata, self);
	migd_spawn(&self->c, "cancel", "--cancel %s", SRC_NAME);
	EXPECT_EQ(0, migd_wait(&self->c, WAIT_MS)) dump_logs(_metadata, self);
	expect_source_runs_on(_metadata, self);
	EXPECT_LOG(&self->s, "cancelled while pausing the VM");
	EXPECT_EQ(1, LOAD(self->src.resumes));
}

/* The source's VMM exits instead of pausing: a clear failure, nothing hangs. */
TEST_F_TIMEOUT(migd, source_vmm_exits, 180)
{
	self->src.close_on_pause = true;
	start_migration(_metadata, self, "-v");
	EXPECT_EQ(1, migd_wait(&self->s, WAIT_MS)) dump_logs(_metadata, self);
	EXPECT_LOG(&self->s, "session \"" SRC_NAME "\" ended while waiting for PAUSED");
	EXPECT_EQ(1, migd_wait(&self->d, WAIT_MS));
	EXPECT_TRUE(side_wait(&self->dst, KVMMIG_SESSION_ABORTED));
}

/* The source's VMM exits during pre-copy: migd says so and gives up. */
TEST_F_TIMEOUT(migd, source_vmm_exits_mid_stream, 180)
{
	start_slow(_metadata, self);
	STORE(self->src.close_now, 1);
	EXPECT_EQ(1, migd_wait(&self->s, WAIT_MS)) dump_logs(_metadata, self);
	EXPECT_LOG(&self->s, "session \"" SRC_NAME "\" ended during the migration: its VMM "
		   "closed it");
	EXPECT_EQ(0, LOAD(self->src.pausing_seen));
	EXPECT_EQ(1, migd_wait(&self->d, WAIT_MS));
	EXPECT_TRUE(side_wait(&self->dst, KVMMIG_SESSION_ABORTED));
}

/* The destination's VMM exits while pages arrive: the source runs on. */
TEST_F_TIMEOUT(migd, dest_vmm_exits_mid_stream, 180)
{
	start_slow(_metadata, self);
	STORE(self->dst.close_now, 1);
	EXPECT_EQ(1, migd_wait(&self->d, WAIT_MS)) dump_logs(_metadata, self);
	EXPECT_LOG(&self->d, "session \"" DST_NAME "\" ended during the migration: its VMM "
		   "closed it");
	EXPECT_EQ(1, migd_wait(&self->s, WAIT_MS));
	EXPECT_EQ(KVMMIG_SESSION_RUNNING, side_state(&self->src));
	EXPECT_EQ(0, LOAD(self->src.pausing_seen));
	EXPECT_TRUE(writer_runs(&self->src, 1000));
}

/* The named destination has another size: refused, and aborted. */
TEST_F_TIMEOUT(migd, size_mismatch_named, 180)
{
	const size_t sizes[MAX_REGIONS] = { 16 << 20, 1 << 20 };
	int port;

	ASSERT_EQ(0, dst_init(self, DST_NAME, sizes));
	port = migd_start_dest(&self->d, DST_NAME, WAIT_MS);
	ASSERT_LT(0, port);
	migd_spawn(&self->s, "src", "--peer 127.0.0.1:%d %s", port, SRC_NAME);
	EXPECT_EQ(1, migd_wait(&self->d, WAIT_MS)) dump_logs(_metadata, self);
	EXPECT_LOG(&self->d, "region \"ram0\" (" DST_NAME ":ram0) has 16777216 bytes, the "
		   "source's 33554432");
	EXPECT_TRUE(side_wait(&self->dst, KVMMIG_SESSION_ABORTED));
	EXPECT_EQ(1, migd_wait(&self->s, WAIT_MS));
	EXPECT_LOG(&self->s, "before accepting the regions");
	EXPECT_EQ(0, LOAD(self->src.pausing_seen));
	EXPECT_EQ(KVMMIG_SESSION_RUNNING, side_state(&self->src));
}

/* No name and no WAITING session that fits: refused, nothing aborted. */
TEST_F_TIMEOUT(migd, no_matching_session, 180)
{
	const size_t sizes[MAX_REGIONS] = { 16 << 20, 1 << 20 };
	int port;

	ASSERT_EQ(0, dst_init(self, DST_NAME, sizes));
	port = migd_start_dest(&self->d, "", WAIT_MS);
	ASSERT_LT(0, port);
	migd_spawn(&self->s, "src", "--peer 127.0.0.1:%d %s", port, SRC_NAME);
	EXPECT_EQ(1, migd_wait(&self->d, WAIT_MS)) dump_logs(_metadata, self);
	EXPECT_LOG(&self->d, "no WAITING session has the source's regions (\"ram0\" 32 MiB, "
		   "\"ram1\" 1 MiB); WAITING here: \"" DST_NAME "\" (\"ram0\" 16 MiB, "
		   "\"ram1\" 1 MiB)");
	EXPECT_EQ(KVMMIG_SESSION_WAITING, side_state(&self->dst));
	EXPECT_EQ(1, migd_wait(&self->s, WAIT_MS));
	EXPECT_EQ(KVMMIG_SESSION_RUNNING, side_state(&self->src));
}

/* A save pauses the guest for the last round, resumes it, and verifies. */
TEST_F_TIMEOUT(migd, save_and_verify, 180)
{
	const char *file = "/tmp/migd_local.kmig";

	unlink(file);
	migd_spawn(&self->s, "src", "--output %s %s", file, SRC_NAME);
	EXPECT_EQ(0, migd_wait(&self->s, WAIT_MS)) dump_logs(_metadata, self);
	EXPECT_EQ(1, LOAD(self->src.pausing_seen));
	EXPECT_TRUE(side_wait(&self->src, KVMMIG_SESSION_RUNNING));
	EXPECT_EQ(1, LOAD(self->src.resumes));
	EXPECT_TRUE(writer_runs(&self->src, 1000));
	migd_spawn(&self->c, "verify", "verify %s", file);
	EXPECT_EQ(0, migd_wait(&self->c, WAIT_MS)) dump_logs(_metadata, self);
	EXPECT_TRUE(file_has(self->c.out, "state: 2 vcpu, 0 nested, 1 device blobs, 35768 "
			     "bytes")) dump_logs(_metadata, self);
	unlink(file);
}

TEST_F_TIMEOUT(migd, list_shows_sessions, 60)
{
	char *out;

	ASSERT_EQ(0, dst_init(self, DST_NAME, src_sizes));
	migd_spawn(&self->c, "list", "list");
	ASSERT_EQ(0, migd_wait(&self->c, WAIT_MS)) dump_logs(_metadata, self);
	out = slurp(self->c.out);
	EXPECT_TRUE(strstr(out, SRC_NAME) && strstr(out, "RUNNING")) TH_LOG("%s", out);
	EXPECT_TRUE(strstr(out, DST_NAME) && strstr(out, "WAITING")) TH_LOG("%s", out);
	EXPECT_TRUE(!!strstr(out, "ram0 (32 MiB), ram1 (1 MiB)")) TH_LOG("%s", out);
	migd_spawn(&self->c, "list", "list --json");
	ASSERT_EQ(0, migd_wait(&self->c, WAIT_MS));
	out = slurp(self->c.out);
	EXPECT_TRUE(!!strstr(out, "{\"name\":\"" SRC_NAME "\"")) TH_LOG("%s", out);
	EXPECT_TRUE(!!strstr(out, "\"state\":\"WAITING\"")) TH_LOG("%s", out);
	EXPECT_TRUE(!!strstr(out, "\"size\":33554432")) TH_LOG("%s", out);
}

/* A second migd on a session that one already migrates is refused. */
TEST_F_TIMEOUT(migd, one_migd_per_session, 180)
{
	start_slow(_metadata, self);
	migd_spawn(&self->c, "second", "--output /tmp/migd_local.2.kmig %s", SRC_NAME);
	EXPECT_EQ(1, migd_wait(&self->c, WAIT_MS));
	EXPECT_LOG(&self->c, "is being migrated by migd pid");
	/* The first one is unharmed. */
	EXPECT_EQ(0, waitpid(self->s.pid, NULL, WNOHANG));
	EXPECT_EQ(0, LOAD(self->src.pausing_seen));
}

/*
 * Allocated pages of the newest region named @name, from
 * /sys/kernel/debug/kvmmig/regions ("id name pages allocated ..."; ids
 * grow with every region created), or -1.
 */
static long region_allocated(const char *name)
{
	char line[256], rname[64];
	unsigned long long id, best = 0;
	long pages, alloc, found = -1;
	FILE *f = fopen("/sys/kernel/debug/kvmmig/regions", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llu %63s %ld %ld", &id, rname, &pages, &alloc) == 4 &&
		    !strcmp(rname, name) && id >= best) {
			best = id;
			found = alloc;
		}
	fclose(f);
	return found;
}

static bool page_is_zero(const uint8_t *p)
{
	for (size_t i = 0; i < PAGE; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * A zero page costs the destination nothing: a 64 MiB guest with 1264
 * non-zero pages allocates those (and what its VMM had touched) there,
 * not its 16384.  Zero pages are still stored where it matters: page 0
 * arrives non-zero in round 1 and is zeroed at the source before the
 * pause, and pages 5, 6, 7 and 9, zero at the source, are ones the
 * destination VMM wrote before the migration (several in one read-back
 * chunk of migd's, so zeroing one cannot hide the next); all must read
 * zero at the end.
 */
TEST_F_TIMEOUT(migd, zero_pages_cost_nothing, 300)
{
	const size_t sz[1] = { 64 << 20 };
	const size_t npages = sz[0] / PAGE, tail = 1024;
	const size_t stale[] = { 5, 6, 7, 9 };
	struct side src = { .no_writer = true }, dst = { 0 };
	uint8_t buf[PAGE];
	long nonzero = 0, before, after;
	uint64_t end;
	int port;

	ASSERT_TRUE(writer_hold(&self->src));
	ASSERT_EQ(0, __side_init(&src, self->dev, "mlt_zero", false, sz, 1));
	ASSERT_EQ(0, __side_init(&dst, self->dev, "mlt_zero_in", true, sz, 1));
	/*
	 * The source: page 0, every 64th page and the last 4 MiB hold data
	 * (the tail keeps round 1 going for about 2.6 s under the cap).
	 */
	for (size_t p = 0; p < npages; p++) {
		uint8_t *pg = src.map[0] + p * PAGE;

		if (p % 64 && p < npages - tail)
			memset(pg, 0, PAGE);
		else
			memset(pg, (int)(p * 7) | 1, PAGE);
	}
	for (size_t p = 1; p < npages; p++)
		nonzero += !page_is_zero(src.map[0] + p * PAGE);
	/* The destination VMM has touched pages, all but 64 zero at the source. */
	for (size_t i = 0; i < ARRAY_SIZE(stale); i++)
		memset(dst.map[0] + stale[i] * PAGE, 0xa5 + (int)i, PAGE);
	memset(dst.map[0] + 64 * PAGE, 0x5a, PAGE);
	before = region_allocated("ram0");
	ASSERT_EQ(ARRAY_SIZE(stale) + 1, before)
		TH_LOG("the destination region before the migration");

	port = migd_start_dest(&self->d, "--json mlt_zero_in", WAIT_MS);
	ASSERT_LT(0, port) dump_logs(_metadata, self);
	migd_spawn(&self->s, "src", "--peer 127.0.0.1:%d --bwlimit 2 --json -v mlt_zero",
		   port);
	/* Page 0 has arrived with its data: now it goes zero at the source. */
	end = kvmmig_now_ms() + WAIT_MS;
	do {
		ASSERT_EQ((ssize_t)PAGE, pread(dst.reg_fd[0], buf, PAGE, 0));
		if (!page_is_zero(buf))
			break;
		kvmmig_sleep_ms(1);
	} while (kvmmig_now_ms() < end);
	ASSERT_FALSE(page_is_zero(buf)) dump_logs(_metadata, self);
	memset(src.map[0], 0, PAGE);
	ASSERT_EQ(0, LOAD(src.pausing_seen))
		TH_LOG("page 0 went zero after the pause: round 1 was too quick");

	EXPECT_EQ(0, migd_wait(&self->s, WAIT_MS)) dump_logs(_metadata, self);
	EXPECT_EQ(0, migd_wait(&self->d, WAIT_MS)) dump_logs(_metadata, self);
	EXPECT_TRUE(side_wait(&dst, KVMMIG_SESSION_RUNNING));
	/* Counted before anything maps the pages: a read fault allocates. */
	after = region_allocated("ram0");
	TH_LOG("destination pages allocated: %ld before, %ld after; the source has "
	       "%ld non-zero pages of %zu", before, after, nonzero, npages);
	/* The non-zero pages, page 0 (written, then zeroed) and the stale ones. */
	EXPECT_LE(nonzero, after);
	EXPECT_GE(nonzero + 1 + (long)ARRAY_SIZE(stale), after);
	ASSERT_EQ((ssize_t)PAGE, pread(dst.reg_fd[0], buf, PAGE, 0));
	EXPECT_TRUE(page_is_zero(buf)) TH_LOG("page 0 kept the data of round 1");
	for (size_t i = 0; i < ARRAY_SIZE(stale); i++) {
		ASSERT_EQ((ssize_t)PAGE, pread(dst.reg_fd[0], buf, PAGE, stale[i] * PAGE));
		EXPECT_TRUE(page_is_zero(buf))
			TH_LOG("page %zu kept what the VMM wrote there", stale[i]);
	}
	EXPECT_TRUE(same_as_snapshot(&src, &dst));
	TH_LOG("source: %s", slurp(self->s.out));
	side_fini(&src);
	side_fini(&dst);
}

static void *tcp_sink(void *arg)
{
	int *fd = arg, c = accept(*fd, NULL, NULL);
	char *buf = malloc(1 << 20);

	while (c >= 0 && read(c, buf, 1 << 20) > 0)
		;
	free(buf);
	if (c >= 0)
		close(c);
	return NULL;
}

/* MB/s of a plain loopback TCP copy of @bytes, for comparison; 0 if none. */
static double plain_tcp_mbps(size_t bytes)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	char *buf = malloc(1 << 20);
	int l = socket(AF_INET, SOCK_STREAM, 0), c;
	uint64_t t0;
	size_t sent = 0;
	pthread_t th;

	for (int i = 0; i < (1 << 20); i++)
		buf[i] = (char)(i * 2654435761u >> 13);
	if (bind(l, (struct sockaddr *)&sin, sizeof(sin)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&sin, &sl))
		return 0;
	pthread_create(&th, NULL, tcp_sink, &l);
	c = socket(AF_INET, SOCK_STREAM, 0);
	t0 = kvmmig_now_ms();
	if (!connect(c, (struct sockaddr *)&sin, sizeof(sin)))
		while (sent < bytes && write(c, buf, 1 << 20) > 0)
			sent += 1 << 20;
	close(c);
	pthread_join(th, NULL);
	close(l);
	free(buf);
	return sent / 1e3 / (kvmmig_now_ms() - t0 + 1);
}

/*
 * 256 MiB, a guest that does not write: what migd moves over loopback in
 * this VM, next to a plain TCP copy (logged; the test only checks that
 * all of it arrived).
 */
TEST_F_TIMEOUT(migd, throughput_256m, 300)
{
	const size_t big[1] = { 256 << 20 };
	struct side src = { .no_writer = true }, dst = { 0 };
	int port;

	/* The fixture's guest would share the CPUs: it waits. */
	ASSERT_TRUE(writer_hold(&self->src));
	ASSERT_EQ(0, __side_init(&src, self->dev, "mlt_big", false, big, 1));
	ASSERT_EQ(0, __side_init(&dst, self->dev, "mlt_big_in", true, big, 1));
	port = migd_start_dest(&self->d, "--json mlt_big_in", WAIT_MS);
	ASSERT_LT(0, port) dump_logs(_metadata, self);
	migd_spawn(&self->s, "src", "--peer 127.0.0.1:%d --json -v mlt_big", port);
	EXPECT_EQ(0, migd_wait(&self->s, WAIT_MS)) dump_logs(_metadata, self);
	EXPECT_EQ(0, migd_wait(&self->d, WAIT_MS)) dump_logs(_metadata, self);
	EXPECT_TRUE(side_wait(&dst, KVMMIG_SESSION_RUNNING));
	EXPECT_TRUE(same_as_snapshot(&src, &dst));
	TH_LOG("source: %s", slurp(self->s.out));
	TH_LOG("source log:\n%s", slurp(self->s.log));
	TH_LOG("destination: %s", slurp(self->d.out));
	TH_LOG("plain TCP over 127.0.0.1 in this VM: %.0f MB/s", plain_tcp_mbps(big[0]));
	side_fini(&src);
	side_fini(&dst);
}

KVMMIG_HARNESS_MAIN
