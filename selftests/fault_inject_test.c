// SPDX-License-Identifier: GPL-2.0
/*
 * Every ioctl and generic netlink command of the module under allocation
 * failure.  For each entry point, on a fresh fixture each time, fail the
 * 1st, 2nd, ... allocation the call reaches (/proc/thread-self/fail-nth,
 * slab and page allocations of this thread only) until the call runs
 * through without reaching the armed one.  After each failure:
 *
 * - the call returned an error, and what it works on is as it was: the
 *   process's fds, the module's region, session and blob objects and
 *   pages, the session's state and blobs, the dirty log's bits;
 * - the same call then succeeds;
 * - once the fixture is gone, the module's page and object counters are
 *   back where they started (kmemleak, where the kernel has it, is
 *   scanned by the bed after the tests).
 *
 * A call that succeeds although an allocation failed (a fallback) must
 * have done all of its work; a state change it made still reaches the
 * events group, as an event or as ENOBUFS.  A netlink command whose reply
 * could not be allocated has taken effect and says ENOBUFS: netlink's own
 * rule, accepted only in that form.
 *
 * Needs CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC and their debugfs
 * knobs (the debug kernel of "make check-debug"); Debian's kernels have
 * none, and the test skips there saying so.
 */

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <unistd.h>
#include <linux/falloc.h>

#include "kselftest_harness.h"
#include "kvmmig_util.h"
#include "nl_util.h"
#include "session_util.h"

#define PAGE		4096UL
#define REGION_PAGES	128
#define MAX_NTH		2000	/* more allocation points than this: a bug */
#define SETTLE_MS	2000	/* for counters that drop after an RCU period */

/* Pages written after the dirty log is armed: the bits a failure must keep. */
static const unsigned long dirty_pages[] = { 1, 3, 5, 7, 66, 127 };
#define NR_DIRTY	(sizeof(dirty_pages) / sizeof(dirty_pages[0]))

/* How far the fixture is taken before the call. */
enum stage {
	S_DEV,			/* /dev/kvmmig only */
	S_FILE,			/* + a region file of no size yet */
	S_REGIONS,		/* two regions, the first mapped and touched */
	S_DIRTY_WP,		/* + logging in write-protect mode, dirty pages */
	S_DIRTY_AD,		/* + logging in A/D mode, dirty pages */
	S_RUNNING,		/* + a session over both regions */
	S_PAUSING,		/* + PAUSE */
	S_PAUSING_BLOB,		/* + a blob put */
	S_PAUSED,		/* + ACK(PAUSING) */
	S_WAITING,		/* regions + an incoming session */
	S_RECEIVING,		/* + RECEIVE */
	S_RECEIVING_BLOB,	/* + BLOB_ADD */
	S_ARRIVED,		/* + ARRIVE */
};

struct objects {
	long pages, regions, sessions, blobs, fds;
};

struct fx {
	int dev;
	int r[2];
	char *map;
	size_t size;
	int sfd;
	__u32 id;
	int out;		/* an fd the call returned */
	char dir[64];		/* a kvmmig mount */
	char file[96];		/* a region file in it */
	int ffd;
	struct nlk k;		/* requests: the test plays migd */
	struct nlk dk;		/* dumps (see reopen_dumps()) */
	struct nlk ev;		/* the events group */
	unsigned int iter;
	/* Arguments live here, touched before a call is armed. */
	struct kvmmig_api api;
	struct kvmmig_create_region create_region;
	struct kvmmig_create_session create_session;
	struct kvmmig_open_session_region open_region;
	struct kvmmig_dirty_log_enable enable;
	struct kvmmig_dirty_log_disable disable;
	struct kvmmig_dirty_log_harvest harvest;
	struct kvmmig_dirty_log_stats stats;
	struct kvmmig_session_info info;
	struct kvmmig_session_ack ack;
	struct kvmmig_session_blob blob;
	__u64 bitmap[REGION_PAGES / 64];
	int fds[2];
	char name[KVMMIG_SESSION_NAME_LEN];
	char data[4 * PAGE];
	unsigned int dumped;
};

/* fail-nth */

static void knob(const char *dir, const char *file, const char *val)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s/%s", dir, file);
	fd = open(path, O_WRONLY);
	if (fd >= 0) {
		(void)!write(fd, val, strlen(val));
		close(fd);
	}
}

/* Fail GFP_KERNEL and user-page allocations too, and quietly. */
static void fault_knobs(bool on)
{
	knob("failslab", "ignore-gfp-wait", on ? "N" : "Y");
	knob("failslab", "verbose", on ? "0" : "2");
	knob("fail_page_alloc", "ignore-gfp-wait", on ? "N" : "Y");
	knob("fail_page_alloc", "ignore-gfp-highmem", on ? "N" : "Y");
	knob("fail_page_alloc", "min-order", on ? "0" : "1");
	knob("fail_page_alloc", "verbose", on ? "0" : "2");
}

static void arm(int nthfd, unsigned int nth)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", nth);

	if (pwrite(nthfd, buf, len, 0) != len)
		abort();
}

/* Disarm; true if the armed allocation was reached (and failed). */
static bool disarm(int nthfd)
{
	char buf[16] = "";

	if (pread(nthfd, buf, sizeof(buf) - 1, 0) <= 0 ||
	    pwrite(nthfd, "0", 1, 0) != 1)
		abort();
	return atoi(buf) == 0;
}

/* What a failed call must leave as it was */

static long debugfs_object(const char *what)
{
	char line[64], name[32];
	long val = -1, v;
	FILE *f = fopen("/sys/kernel/debug/kvmmig/objects", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%31s %ld", name, &v) == 2 &&
		    !strcmp(name, what))
			val = v;
	fclose(f);
	return val;
}

static long count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void objects(struct objects *o)
{
	o->pages = kvmmig_debugfs_pages();
	o->regions = debugfs_object("regions");
	o->sessions = debugfs_object("sessions");
	o->blobs = debugfs_object("blobs");
	o->fds = count_fds();
}

static bool objects_equal(const struct objects *a, const struct objects *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* Wait for counters that drop after the last reference goes. */
static bool objects_return(const struct objects *want, struct objects *now)
{
	int ms;

	for (ms = 0; ms <= SETTLE_MS; ms += 10) {
		objects(now);
		if (objects_equal(want, now))
			return true;
		usleep(10000);
	}
	return false;
}

/* The calls: each returns >= 0 or -errno; fds it makes go to f->out. */

static int ret_fd(struct fx *f, int ret)
{
	if (ret >= 0)
		f->out = ret;
	return ret;
}

static int call_get_api(struct fx *f)
{
	return __kvmmig_get_api(f->dev, &f->api);
}

static int call_create_region(struct fx *f)
{
	return ret_fd(f, __kvmmig_create_region(f->dev, &f->create_region));
}

static int call_create_session(struct fx *f)
{
	int ret = __kvmmig_create_session(f->dev, &f->create_session);

	if (ret >= 0)
		f->id = f->create_session.id;
	return ret_fd(f, ret);
}

static int call_open_session_region(struct fx *f)
{
	return ret_fd(f, __kvmmig_open_session_region(f->dev,
						      &f->open_region));
}

static int call_enable(struct fx *f)
{
	return __kvmmig_log_enable(f->r[0], &f->enable);
}

static int call_disable(struct fx *f)
{
	return __kvmmig_log_disable(f->r[0], &f->disable);
}

static int call_harvest(struct fx *f)
{
	return __kvmmig_log_harvest(f->r[0], &f->harvest);
}

static int call_stats(struct fx *f)
{
	return __kvmmig_log_stats(f->r[0], &f->stats);
}

static int call_pwrite(struct fx *f)
{
	/* Pages the fixture never touched: the write allocates them. */
	ssize_t n = pwrite(f->r[0], f->data, sizeof(f->data), 64 * PAGE);

	return n < 0 ? -errno : 0;
}

static int call_pread(struct fx *f)
{
	ssize_t n = pread(f->r[0], f->data, sizeof(f->data), 0);

	return n < 0 ? -errno : 0;
}

static int call_file_create(struct fx *f)
{
	int fd = open(f->file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	return ret_fd(f, fd < 0 ? -errno : fd);
}

static int call_file_size(struct fx *f)
{
	return ftruncate(f->ffd, f->size) ? -errno : 0;
}

static int call_populate(struct fx *f)
{
	return fallocate(f->r[0], 0, 64 * PAGE, 8 * PAGE) ? -errno : 0;
}

static int call_punch(struct fx *f)
{
	return fallocate(f->r[0], FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			 PAGE, 2 * PAGE) ? -errno : 0;
}

static int call_info(struct fx *f)
{
	return __kvmmig_session_info(f->sfd, &f->info);
}

static int call_put_blob(struct fx *f)
{
	return __kvmmig_put_blob(f->sfd, &f->blob);
}

static int call_get_blob(struct fx *f)
{
	return __kvmmig_get_blob(f->sfd, &f->blob);
}

static int call_ack(struct fx *f)
{
	return __kvmmig_session_ack(f->sfd, &f->ack);
}

static int count_reply(struct nlattr **tb, void *arg)
{
	(*(unsigned int *)arg)++;
	return 0;
}

static int nl_call(struct fx *f, __u8 cmd, int flags, bool with_id)
{
	struct nlk *k = flags & NLM_F_DUMP ? &f->dk : &f->k;
	struct nl_msg *msg = nlk_msg(k, cmd, flags);

	if (!msg)
		return -ENOMEM;
	if (with_id && nla_put_u32(msg, KVMMIG_A_SESSION_ID, f->id)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	f->dumped = 0;
	return __nlk_request(k, msg, count_reply, &f->dumped, NULL);
}

static int call_region_dump(struct fx *f)
{
	return nl_call(f, KVMMIG_CMD_REGION_GET, NLM_F_DUMP, false);
}

static int call_session_get(struct fx *f)
{
	return nl_call(f, KVMMIG_CMD_SESSION_GET, 0, true);
}

static int call_session_dump(struct fx *f)
{
	return nl_call(f, KVMMIG_CMD_SESSION_GET, NLM_F_DUMP, false);
}

static int call_blob_dump(struct fx *f)
{
	return nl_call(f, KVMMIG_CMD_BLOB_GET, NLM_F_DUMP, true);
}

static int call_pause(struct fx *f)
{
	return nl_call(f, KVMMIG_CMD_SESSION_PAUSE, 0, true);
}

static int call_resume(struct fx *f)
{
	return nl_call(f, KVMMIG_CMD_SESSION_RESUME, 0, true);
}

static int call_handover(struct fx *f)
{
	return nl_call(f, KVMMIG_CMD_SESSION_HANDOVER, 0, true);
}

static int call_receive(struct fx *f)
{
	return nl_call(f, KVMMIG_CMD_SESSION_RECEIVE, 0, true);
}

static int call_arrive(struct fx *f)
{
	return nl_call(f, KVMMIG_CMD_SESSION_ARRIVE, 0, true);
}

static int call_abort(struct fx *f)
{
	return nl_call(f, KVMMIG_CMD_SESSION_ABORT, 0, true);
}

static int call_blob_add(struct fx *f)
{
	return __nlk_blob_add(&f->k, f->id, KVMMIG_BLOB_DEVICE, 1, "dev",
			      f->data, 3000, NULL);
}

/* The fixture */

static int session_state(struct fx *f)
{
	return f->sfd >= 0 ? kvmmig_session_state(f->sfd) : 0;
}

static void write_dirty_pages(struct fx *f)
{
	unsigned int i;

	for (i = 0; i < NR_DIRTY; i++)
		f->map[dirty_pages[i] * PAGE] ^= 1;
}

static bool bits_cover_dirty(const __u64 *bitmap)
{
	unsigned int i;

	for (i = 0; i < NR_DIRTY; i++)
		if (!bitmap_test(bitmap, dirty_pages[i]))
			return false;
	return true;
}

static int setup_log(struct fx *f, __u32 mode)
{
	int ret = kvmmig_log_enable(f->r[0], mode, 0, 0);

	if (ret)
		return ret;
	if (kvmmig_log_harvest_all(f->r[0], REGION_PAGES, f->bitmap) < 0)
		return -EIO;
	write_dirty_pages(f);
	return 0;
}

static int nl_step(struct fx *f, __u8 cmd)
{
	return __nlk_session_cmd(&f->k, cmd, f->id, NULL);
}

static int setup(struct fx *f, enum stage stage)
{
	bool incoming = stage >= S_WAITING;
	int ret;

	f->iter++;
	if (stage == S_DEV)
		return 0;
	if (stage == S_FILE) {
		f->ffd = open(f->file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			      0600);
		return f->ffd < 0 ? -errno : 0;
	}
	f->r[0] = kvmmig_region(f->dev, f->size, "fi-ram0", -1);
	f->r[1] = kvmmig_region(f->dev, f->size, "fi-ram1", -1);
	if (f->r[0] < 0 || f->r[1] < 0)
		return -EIO;
	f->map = mmap(NULL, f->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      f->r[0], 0);
	if (f->map == MAP_FAILED) {
		f->map = NULL;
		return -errno;
	}
	memset(f->map, 0x5a, 8 * PAGE);
	f->fds[0] = f->r[0];
	f->fds[1] = f->r[1];
	snprintf(f->name, sizeof(f->name), "fi-%u", f->iter);

	if (stage == S_DIRTY_WP)
		return setup_log(f, KVMMIG_DIRTY_MODE_WRPROT);
	if (stage == S_DIRTY_AD)
		return setup_log(f, KVMMIG_DIRTY_MODE_AD);
	if (stage < S_RUNNING)
		return 0;

	f->sfd = kvmmig_session(f->dev, f->name,
				incoming ? KVMMIG_SESSION_F_INCOMING : 0,
				f->fds, 2, &f->id);
	if (f->sfd < 0)
		return f->sfd;
	switch (stage) {
	case S_PAUSED:
	case S_PAUSING_BLOB:
	case S_PAUSING:
		ret = nl_step(f, KVMMIG_CMD_SESSION_PAUSE);
		if (ret || stage == S_PAUSING)
			return ret;
		ret = kvmmig_put_blob(f->sfd, KVMMIG_BLOB_VCPU, 0, "cpu0",
				      f->data, 2000);
		if (ret || stage == S_PAUSING_BLOB)
			return ret;
		return kvmmig_session_ack(f->sfd, KVMMIG_SESSION_PAUSING);
	case S_ARRIVED:
	case S_RECEIVING_BLOB:
	case S_RECEIVING:
		ret = nl_step(f, KVMMIG_CMD_SESSION_RECEIVE);
		if (ret || stage == S_RECEIVING)
			return ret;
		ret = __nlk_blob_add(&f->k, f->id, KVMMIG_BLOB_VCPU, 0, "cpu0",
				     f->data, 2000, NULL);
		if (ret || stage == S_RECEIVING_BLOB)
			return ret;
		return nl_step(f, KVMMIG_CMD_SESSION_ARRIVE);
	default:
		return 0;
	}
}

/* Arguments for the call, reset before every attempt. */
static void set_args(struct fx *f)
{
	memset(&f->create_region, 0, sizeof(f->create_region));
	f->create_region.size = f->size;
	snprintf(f->create_region.name, sizeof(f->create_region.name),
		 "fi-new");

	memset(&f->create_session, 0, sizeof(f->create_session));
	f->create_session.nr_regions = 2;
	f->create_session.region_fds = (uintptr_t)f->fds;
	snprintf(f->create_session.name, sizeof(f->create_session.name),
		 "%s", f->name);

	memset(&f->open_region, 0, sizeof(f->open_region));
	f->open_region.session_id = f->id;
	f->open_region.index = 1;
	f->open_region.flags = KVMMIG_OPEN_REGION_F_RDONLY;

	memset(&f->enable, 0, sizeof(f->enable));
	memset(&f->disable, 0, sizeof(f->disable));
	memset(&f->harvest, 0, sizeof(f->harvest));
	memset(f->bitmap, 0, sizeof(f->bitmap));
	f->harvest.num_pages = REGION_PAGES;
	f->harvest.bitmap = (uintptr_t)f->bitmap;
	memset(&f->stats, 0, sizeof(f->stats));
	memset(&f->info, 0, sizeof(f->info));
	memset(&f->ack, 0, sizeof(f->ack));
	f->ack.state = session_state(f);	/* PAUSING or ARRIVED */

	memset(&f->blob, 0, sizeof(f->blob));
	f->blob.kind = KVMMIG_BLOB_DEVICE;
	f->blob.instance = 1;
	f->blob.size = sizeof(f->data);
	f->blob.data = (uintptr_t)f->data;
	snprintf(f->blob.name, sizeof(f->blob.name), "dev");

	/* A free chunk for the request, so malloc need not grow the heap. */
	nlmsg_free(nlk_msg(&f->k, KVMMIG_CMD_SESSION_GET, 0));
	nlmsg_free(nlk_msg(&f->dk, KVMMIG_CMD_SESSION_GET, 0));
}

static void teardown(struct fx *f)
{
	if (f->out >= 0)
		close(f->out);
	if (f->sfd >= 0)
		close(f->sfd);
	if (f->map)
		munmap(f->map, f->size);
	if (f->r[0] >= 0)
		close(f->r[0]);
	if (f->r[1] >= 0)
		close(f->r[1]);
	if (f->ffd >= 0)
		close(f->ffd);
	unlink(f->file);
	f->out = f->sfd = f->r[0] = f->r[1] = f->ffd = -1;
	f->map = NULL;
	f->id = 0;
}

/* Events queued by setup and teardown; ENOBUFS from them is not news. */
static void drain_events(struct fx *f)
{
	struct nlk_event e;
	int ret;

	do
		ret = nlk_next_event(&f->ev, &e, 0);
	while (ret != -ETIMEDOUT);
}

/*
 * A state change reached the events group: the event or ENOBUFS.  What
 * was read instead goes to @seen, for the failure message.
 */
static bool event_seen(struct fx *f, __u32 state, char *seen, size_t len)
{
	struct nlk_event e;
	size_t used = 0;
	int ret;

	seen[0] = '\0';
	for (;;) {
		ret = nlk_next_event(&f->ev, &e, 1000);
		if (ret == -ENOBUFS)
			return true;
		if (ret) {
			snprintf(seen + used, len - used, " then %d", ret);
			return false;
		}
		if (e.id == f->id && e.state == state)
			return true;
		used += snprintf(seen + used, len - used, " %u:%u->%u", e.id,
				 e.old_state, e.state);
		if (used >= len)
			used = len - 1;
	}
}

/*
 * A dump whose first message could not be allocated stays "running" in
 * netlink (af_netlink.c: netlink_dump() fails, cb_running stays set) and
 * only a read that finds a message goes on with it; with nothing queued,
 * every later dump on the socket is EBUSY.  A client starts over on a new
 * socket, as here.
 */
static int reopen_dumps(struct fx *f)
{
	nlk_close(&f->dk);
	return __nlk_open(&f->dk);
}

/* The effect of a netlink command that reported failure is there. */
static bool took_effect(struct fx *f, __u32 to_state, bool adds_blob,
			const struct objects *before,
			const struct objects *after)
{
	if (to_state)
		return session_state(f) == (int)to_state;
	if (adds_blob)
		return after->blobs == before->blobs + 1;
	return false;
}

FIXTURE(fail) {
	struct fx f;
	int nthfd;
	struct objects base;
};

FIXTURE_VARIANT(fail) {
	enum stage stage;
	int (*call)(struct fx *f);
	__u32 to_state;		/* the session's state after success */
	bool keeps_bits;	/* a failure must keep the dirty bits */
	bool is_netlink;
	bool needs_dump;	/* a dump must return at least one message */
	bool adds_blob;
	bool partial_pages;	/* a failure may leave pages allocated */
};

FIXTURE_SETUP(fail)
{
	struct fx *f = &self->f;

	self->nthfd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (self->nthfd < 0 ||
	    access("/sys/kernel/debug/failslab", F_OK) ||
	    access("/sys/kernel/debug/fail_page_alloc", F_OK))
		SKIP(return,
		     "no fail-nth, failslab or fail_page_alloc: the kernel lacks CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC or FAULT_INJECTION_DEBUG_FS");

	/* No heap trimming or mmap in malloc: no allocation of ours armed. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	memset(f, 0, sizeof(*f));
	f->out = f->sfd = f->r[0] = f->r[1] = f->ffd = -1;
	strcpy(f->dir, "/tmp/kvmmig-fi.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(f->dir));
	ASSERT_EQ(0, mount("none", f->dir, "kvmmig", 0, NULL));
	snprintf(f->file, sizeof(f->file), "%s/ram", f->dir);
	f->size = REGION_PAGES * PAGE;
	f->dev = __kvmmig_open();
	ASSERT_LE(0, f->dev);
	ASSERT_EQ(0, __nlk_open(&f->k));
	ASSERT_EQ(0, __nlk_open(&f->dk));
	ASSERT_EQ(0, __nlk_open(&f->ev));
	ASSERT_EQ(0, __nlk_join_events(&f->ev));
	memset(f->data, 0xa5, sizeof(f->data));
	objects(&self->base);
	ASSERT_LE(0, self->base.regions)
		TH_LOG("no /sys/kernel/debug/kvmmig/objects");
	fault_knobs(true);
}

FIXTURE_TEARDOWN(fail)
{
	if (self->nthfd < 0)
		return;
	fault_knobs(false);
	teardown(&self->f);
	nlk_close(&self->f.k);
	nlk_close(&self->f.dk);
	nlk_close(&self->f.ev);
	close(self->f.dev);
	close(self->nthfd);
	umount(self->f.dir);
	rmdir(self->f.dir);
}

/* Entry points */

FIXTURE_VARIANT_ADD(fail, get_api) {
	.stage = S_DEV, .call = call_get_api,
};
FIXTURE_VARIANT_ADD(fail, create_region) {
	.stage = S_DEV, .call = call_create_region,
};
FIXTURE_VARIANT_ADD(fail, region_file_create) {
	.stage = S_DEV, .call = call_file_create,
};
FIXTURE_VARIANT_ADD(fail, region_file_size) {
	.stage = S_FILE, .call = call_file_size,
};
/*
 * Like other filesystems', a failed fallocate() may leave part of the
 * range allocated: zero pages, which read as the unallocated ones do.
 */
FIXTURE_VARIANT_ADD(fail, region_populate) {
	.stage = S_REGIONS, .call = call_populate, .partial_pages = true,
};
FIXTURE_VARIANT_ADD(fail, region_punch) {
	.stage = S_REGIONS, .call = call_punch,
};
FIXTURE_VARIANT_ADD(fail, create_session) {
	.stage = S_REGIONS, .call = call_create_session,
};
FIXTURE_VARIANT_ADD(fail, open_session_region) {
	.stage = S_RUNNING, .call = call_open_session_region,
};
FIXTURE_VARIANT_ADD(fail, dirty_log_enable_wrprot) {
	.stage = S_REGIONS, .call = call_enable,
};
FIXTURE_VARIANT_ADD(fail, dirty_log_disable) {
	.stage = S_DIRTY_WP, .call = call_disable,
};
FIXTURE_VARIANT_ADD(fail, dirty_log_harvest_wrprot) {
	.stage = S_DIRTY_WP, .call = call_harvest, .keeps_bits = true,
};
FIXTURE_VARIANT_ADD(fail, dirty_log_harvest_ad) {
	.stage = S_DIRTY_AD, .call = call_harvest, .keeps_bits = true,
};
FIXTURE_VARIANT_ADD(fail, dirty_log_stats) {
	.stage = S_DIRTY_WP, .call = call_stats,
};
FIXTURE_VARIANT_ADD(fail, region_pwrite) {
	.stage = S_REGIONS, .call = call_pwrite,
};
FIXTURE_VARIANT_ADD(fail, region_pread) {
	.stage = S_REGIONS, .call = call_pread,
};
FIXTURE_VARIANT_ADD(fail, session_get_info) {
	.stage = S_RUNNING, .call = call_info,
};
FIXTURE_VARIANT_ADD(fail, session_put_blob) {
	.stage = S_PAUSING, .call = call_put_blob,
};
FIXTURE_VARIANT_ADD(fail, session_ack_pausing) {
	.stage = S_PAUSING_BLOB, .call = call_ack,
	.to_state = KVMMIG_SESSION_PAUSED,
};
FIXTURE_VARIANT_ADD(fail, session_get_blob) {
	.stage = S_ARRIVED, .call = call_get_blob,
};
FIXTURE_VARIANT_ADD(fail, session_ack_arrived) {
	.stage = S_ARRIVED, .call = call_ack,
	.to_state = KVMMIG_SESSION_RUNNING,
};
FIXTURE_VARIANT_ADD(fail, nl_region_get) {
	.stage = S_REGIONS, .call = call_region_dump, .is_netlink = true,
	.needs_dump = true,
};
FIXTURE_VARIANT_ADD(fail, nl_session_get) {
	.stage = S_RUNNING, .call = call_session_get, .is_netlink = true,
	.needs_dump = true,
};
FIXTURE_VARIANT_ADD(fail, nl_session_get_dump) {
	.stage = S_RUNNING, .call = call_session_dump, .is_netlink = true,
	.needs_dump = true,
};
FIXTURE_VARIANT_ADD(fail, nl_session_pause) {
	.stage = S_RUNNING, .call = call_pause, .is_netlink = true,
	.to_state = KVMMIG_SESSION_PAUSING,
};
FIXTURE_VARIANT_ADD(fail, nl_session_resume) {
	.stage = S_PAUSED, .call = call_resume, .is_netlink = true,
	.to_state = KVMMIG_SESSION_RUNNING,
};
FIXTURE_VARIANT_ADD(fail, nl_session_handover) {
	.stage = S_PAUSED, .call = call_handover, .is_netlink = true,
	.to_state = KVMMIG_SESSION_DONE,
};
FIXTURE_VARIANT_ADD(fail, nl_session_receive) {
	.stage = S_WAITING, .call = call_receive, .is_netlink = true,
	.to_state = KVMMIG_SESSION_RECEIVING,
};
FIXTURE_VARIANT_ADD(fail, nl_session_arrive) {
	.stage = S_RECEIVING_BLOB, .call = call_arrive, .is_netlink = true,
	.to_state = KVMMIG_SESSION_ARRIVED,
};
FIXTURE_VARIANT_ADD(fail, nl_session_abort) {
	.stage = S_RECEIVING, .call = call_abort, .is_netlink = true,
	.to_state = KVMMIG_SESSION_ABORTED,
};
FIXTURE_VARIANT_ADD(fail, nl_blob_get) {
	.stage = S_PAUSED, .call = call_blob_dump, .is_netlink = true,
	.needs_dump = true,
};
FIXTURE_VARIANT_ADD(fail, nl_blob_add) {
	.stage = S_RECEIVING, .call = call_blob_add, .is_netlink = true,
	.adds_blob = true,
};

TEST_F_TIMEOUT(fail, walk, 600)
{
	struct fx *f = &self->f;
	unsigned int nth, failures = 0, fallbacks = 0, acks_lost = 0;
	struct objects before, after;
	int ret, state, retry;
	char seen[256];
	bool injected;

	for (nth = 1; nth <= MAX_NTH; nth++) {
		ret = setup(f, variant->stage);
		ASSERT_EQ(0, ret) TH_LOG("fixture, stage %d: %d", variant->stage,
					 ret);
		set_args(f);
		drain_events(f);
		state = session_state(f);
		objects(&before);

		arm(self->nthfd, nth);
		ret = variant->call(f);
		injected = disarm(self->nthfd);

		if (ret >= 0) {
			/* Whether or not it fell back, the work is whole. */
			fallbacks += injected;
			if (variant->to_state) {
				ASSERT_EQ(variant->to_state, session_state(f))
					TH_LOG("nth %u: succeeded without the state change",
					       nth);
				ASSERT_TRUE(event_seen(f, variant->to_state, seen,
						       sizeof(seen)))
					TH_LOG("nth %u (%s): the state change of session %u reached no listener; read:%s",
					       nth, injected ? "injected" : "clean",
					       f->id, seen);
			}
			if (variant->keeps_bits)
				ASSERT_TRUE(bits_cover_dirty(f->bitmap))
					TH_LOG("nth %u: a dirty page is missing", nth);
			if (variant->needs_dump)
				ASSERT_LT(0, f->dumped)
					TH_LOG("nth %u: an empty answer", nth);
			if (!injected)
				break;
			goto next;
		}
		ASSERT_TRUE(injected) TH_LOG("no failure injected, yet %d", ret);

		failures++;
		objects(&after);
		if (variant->is_netlink && took_effect(f, variant->to_state,
						       variant->adds_blob,
						       &before, &after)) {
			/* Done, but its acknowledgement could not be sent. */
			ASSERT_EQ(-ENOBUFS, ret)
				TH_LOG("nth %u: took effect and failed with %d",
				       nth, ret);
			if (variant->to_state)
				ASSERT_TRUE(event_seen(f, variant->to_state,
						       seen, sizeof(seen)))
					TH_LOG("nth %u: no event; read:%s", nth,
					       seen);
			acks_lost++;
			goto next;
		}
		if (variant->needs_dump)
			ASSERT_EQ(0, reopen_dumps(f));
		if (variant->partial_pages && after.pages > before.pages)
			after.pages = before.pages;
		EXPECT_TRUE(objects_equal(&before, &after))
			TH_LOG("nth %u (%d): pages %ld->%ld regions %ld->%ld sessions %ld->%ld blobs %ld->%ld fds %ld->%ld",
			       nth, ret, before.pages, after.pages,
			       before.regions, after.regions, before.sessions,
			       after.sessions, before.blobs, after.blobs,
			       before.fds, after.fds);
		ASSERT_EQ(state, session_state(f))
			TH_LOG("nth %u: the failure (%d) moved the session", nth,
			       ret);

		/* The same call, unarmed. */
		set_args(f);
		retry = variant->call(f);
		ASSERT_LE(0, retry)
			TH_LOG("nth %u: failed with %d, then the retry with %d",
			       nth, ret, retry);
		if (variant->keeps_bits)
			ASSERT_TRUE(bits_cover_dirty(f->bitmap))
				TH_LOG("nth %u: a harvest that failed with %d lost a dirty page",
				       nth, ret);
		if (variant->to_state)
			ASSERT_EQ(variant->to_state, session_state(f));
next:
		teardown(f);
		ASSERT_TRUE(objects_return(&self->base, &after))
			TH_LOG("nth %u: leaked: pages %ld->%ld regions %ld->%ld sessions %ld->%ld blobs %ld->%ld fds %ld->%ld",
			       nth, self->base.pages, after.pages,
			       self->base.regions, after.regions,
			       self->base.sessions, after.sessions,
			       self->base.blobs, after.blobs, self->base.fds,
			       after.fds);
	}
	ASSERT_GE(MAX_NTH, nth) TH_LOG("more than %d allocations", MAX_NTH);
	teardown(f);
	ASSERT_TRUE(objects_return(&self->base, &after));
	TH_LOG("%u allocation points: %u failed the call, %u fell back, %u lost only the acknowledgement",
	       nth - 1, failures, fallbacks, acks_lost);
}

KVMMIG_HARNESS_MAIN
