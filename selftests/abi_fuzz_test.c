// SPDX-License-Identifier: GPL-2.0
/*
 * The module's ABI under random use.  Several threads, for a time budget,
 * throw random sequences at it: region creation with random fields,
 * mappings that are written, protected, advised, moved and forked,
 * dirty-log ioctls, pread/pwrite, sessions, session region fds, blobs,
 * generic netlink commands with random attributes, closes at any moment
 * and rmmod attempts.  Fields are built from earlier results (real fds,
 * real session ids) as often as from noise.  The bed fails the run on any
 * kernel report on the console; the test itself fails if the module's page
 * counter does not return to where it was once everything is closed.
 *
 * KVMMIG_FUZZ_SECONDS sets the budget (default 20), KVMMIG_FUZZ_SEED the
 * seed (default the time, logged): a failure replays with its seed.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <ucontext.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvmmig_util.h"
#include "nl_util.h"
#include "session_util.h"

#define PAGE		4096UL
#define THREADS		4
#define MAX_OBJS	48

enum obj_kind { O_FREE, O_REGION, O_CLONE, O_SESSION };

struct obj {
	enum obj_kind kind;
	int fd;
	size_t size;		/* regions */
	char *map;		/* regions: a mapping, or NULL */
	size_t map_len;
	__u32 id;		/* sessions */
};

static struct obj objs[MAX_OBJS];
static pthread_mutex_t objs_lock = PTHREAD_MUTEX_INITIALIZER;

enum op {
	OP_CREATE, OP_CLOSE, OP_MMAP, OP_TOUCH, OP_PROTECT, OP_ADVISE,
	OP_REMAP, OP_FORK, OP_LOG, OP_RW, OP_SESSION, OP_SESSION_IOCTL,
	OP_OPEN_REGION, OP_NETLINK, OP_RMMOD, OP_NR,
};

static const char *const op_names[OP_NR] = {
	"create", "close", "mmap", "touch", "protect", "advise", "remap",
	"fork", "log", "rw", "session", "session-ioctl", "open-region",
	"netlink", "rmmod",
};

struct fuzzer {
	pthread_t thread;
	unsigned int seed;
	int dev;
	struct nlk nl;
	bool nl_ok;
	time_t end;
	unsigned long done[OP_NR];
	unsigned long faults;
};

/* volatile: the stores around op_touch's loop must not be optimised away. */
static __thread sigjmp_buf *volatile fault_jmp;

static void on_fault(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	char msg[160];
	int n;

	if (fault_jmp)
		siglongjmp(*fault_jmp, sig);
	/* Not a store of op_touch: say where, for addr2line, and die. */
	n = snprintf(msg, sizeof(msg), "# fault %d at %p, ip %#llx\n", sig,
		     si->si_addr,
		     (unsigned long long)uc->uc_mcontext.gregs[REG_RIP]);
	(void)!write(1, msg, n);
	signal(sig, SIG_DFL);
	raise(sig);
}

static unsigned int rnd(struct fuzzer *f, unsigned int n)
{
	return n ? rand_r(&f->seed) % n : 0;
}

/* Mostly zero, sometimes a random bit or word: for flags and reserved. */
static __u64 noise(struct fuzzer *f)
{
	switch (rnd(f, 8)) {
	case 0:
		return 1ULL << rnd(f, 64);
	case 1:
		return ((__u64)rand_r(&f->seed) << 32) | rand_r(&f->seed);
	default:
		return 0;
	}
}

/* A random object of @kind (O_FREE: any), copied; false if none. */
static bool pick(struct fuzzer *f, enum obj_kind kind, struct obj *out)
{
	int i, start = rnd(f, MAX_OBJS);
	bool found = false;

	pthread_mutex_lock(&objs_lock);
	for (i = 0; i < MAX_OBJS && !found; i++) {
		struct obj *o = &objs[(start + i) % MAX_OBJS];

		if (o->kind != O_FREE && (kind == O_FREE || o->kind == kind)) {
			*out = *o;
			found = true;
		}
	}
	pthread_mutex_unlock(&objs_lock);
	return found;
}

/*
 * A random mapped region, with the table locked: its mapping cannot be
 * unmapped (and its addresses reused) until unlock_map().  NULL if none.
 */
static struct obj *lock_map(struct fuzzer *f)
{
	int i, start = rnd(f, MAX_OBJS);

	pthread_mutex_lock(&objs_lock);
	for (i = 0; i < MAX_OBJS; i++) {
		struct obj *o = &objs[(start + i) % MAX_OBJS];

		if (o->kind == O_REGION && o->map)
			return o;
	}
	pthread_mutex_unlock(&objs_lock);
	return NULL;
}

static void unlock_map(void)
{
	pthread_mutex_unlock(&objs_lock);
}

static void add(struct obj *o)
{
	int i;

	pthread_mutex_lock(&objs_lock);
	for (i = 0; i < MAX_OBJS; i++) {
		if (objs[i].kind == O_FREE) {
			objs[i] = *o;
			pthread_mutex_unlock(&objs_lock);
			return;
		}
	}
	pthread_mutex_unlock(&objs_lock);
	/* Full: let it go at once. */
	if (o->map)
		munmap(o->map, o->map_len);
	close(o->fd);
}

/* Forget (and close) the object on @fd, if it is still there. */
static void drop(int fd, bool unmap_only)
{
	int i;

	pthread_mutex_lock(&objs_lock);
	for (i = 0; i < MAX_OBJS; i++) {
		struct obj *o = &objs[i];

		if (o->kind == O_FREE || o->fd != fd)
			continue;
		if (o->map)
			munmap(o->map, o->map_len);
		o->map = NULL;
		if (!unmap_only) {
			close(o->fd);
			o->kind = O_FREE;
		}
		break;
	}
	pthread_mutex_unlock(&objs_lock);
}

static void set_map(int fd, char *map, size_t len)
{
	int i;

	pthread_mutex_lock(&objs_lock);
	for (i = 0; i < MAX_OBJS; i++) {
		if (objs[i].kind == O_REGION && objs[i].fd == fd && !objs[i].map) {
			objs[i].map = map;
			objs[i].map_len = len;
			map = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&objs_lock);
	if (map)
		munmap(map, len);
}

static void op_create(struct fuzzer *f)
{
	struct kvmmig_create_region args = { 0 };
	struct obj o = { .kind = O_REGION };

	args.size = (1 + rnd(f, 512)) * PAGE;
	if (!rnd(f, 16))
		args.size += rnd(f, PAGE);
	args.flags = rnd(f, 4) ? 0 : noise(f);
	if (!rnd(f, 4)) {
		args.flags |= KVMMIG_REGION_F_NODE;
		args.node = rnd(f, 3) - 1;
	}
	args.reserved[rnd(f, 4)] = rnd(f, 8) ? 0 : noise(f);
	snprintf(args.name, sizeof(args.name), "fuzz%u", rnd(f, 100000));
	o.fd = __kvmmig_create_region(f->dev, &args);
	if (o.fd < 0)
		return;
	o.size = args.size;
	add(&o);
}

static void op_mmap(struct fuzzer *f)
{
	struct obj o;
	size_t len;
	char *map;

	if (!pick(f, O_FREE, &o) || o.kind == O_SESSION)
		return;
	len = o.kind == O_REGION ? o.size : PAGE;
	map = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   rnd(f, 8) ? MAP_SHARED : MAP_PRIVATE, o.fd, 0);
	if (map != MAP_FAILED)
		set_map(o.fd, map, len);
}

/* Store into a mapping that another thread may protect at any moment. */
static void op_touch(struct fuzzer *f)
{
	struct obj *o = lock_map(f);
	sigjmp_buf jmp;
	int i;

	if (!o)
		return;
	if (sigsetjmp(jmp, 1)) {
		fault_jmp = NULL;
		f->faults++;
		unlock_map();
		return;
	}
	fault_jmp = &jmp;
	for (i = 0; i < 16; i++)
		o->map[rnd(f, o->map_len)] = rnd(f, 256);
	fault_jmp = NULL;
	unlock_map();
}

static void op_protect(struct fuzzer *f)
{
	static const int prots[] = { PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE };
	struct obj *o = lock_map(f);

	if (!o)
		return;
	mprotect(o->map, o->map_len, prots[rnd(f, 3)]);
	if (rnd(f, 2))
		mprotect(o->map, o->map_len, PROT_READ | PROT_WRITE);
	unlock_map();
}

static void op_advise(struct fuzzer *f)
{
	static const int advices[] = {
		MADV_DONTNEED, MADV_COLD, MADV_PAGEOUT, MADV_WILLNEED,
		22 /* POPULATE_READ */, 23 /* POPULATE_WRITE */, MADV_RANDOM,
		MADV_REMOVE, MADV_DONTFORK, MADV_DOFORK, MADV_HUGEPAGE,
		MADV_NOHUGEPAGE,
	};
	struct obj *o = lock_map(f);

	if (!o)
		return;
	madvise(o->map, o->map_len,
		advices[rnd(f, sizeof(advices) / sizeof(advices[0]))]);
	unlock_map();
}

static void op_remap(struct fuzzer *f)
{
	struct obj o;
	char *to;

	if (!pick(f, O_REGION, &o) || !o.map)
		return;
	/* Unmapped here, mapped again elsewhere: the table learns the move. */
	drop(o.fd, true);
	to = mmap(NULL, o.map_len, PROT_READ | PROT_WRITE, MAP_SHARED, o.fd, 0);
	if (to == MAP_FAILED)
		return;
	to = mremap(to, o.map_len, o.map_len, MREMAP_MAYMOVE);
	if (to != MAP_FAILED)
		set_map(o.fd, to, o.map_len);
}

static void child_fault(int sig)
{
	_exit(0);
}

static void op_fork(struct fuzzer *f)
{
	__u64 bitmap[8];
	struct obj o;
	pid_t pid;
	int i;

	if (!pick(f, O_REGION, &o))
		return;
	pid = fork();
	if (pid)
		goto wait;
	/* The mapping may be gone or read-only: a fault ends the child. */
	signal(SIGSEGV, child_fault);
	signal(SIGBUS, child_fault);
	for (i = 0; o.map && i < 8; i++)
		o.map[rnd(f, o.map_len)] = 1;
	kvmmig_log_harvest(o.fd, 0, o.size / PAGE < 512 ? o.size / PAGE : 512,
			   bitmap);
	_exit(0);
wait:
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

static void op_log(struct fuzzer *f)
{
	__u64 bitmap[16];
	struct obj o;
	struct kvmmig_dirty_log_enable en = { 0 };
	struct kvmmig_dirty_log_disable dis = { 0 };
	struct kvmmig_dirty_log_harvest h = { 0 };
	struct kvmmig_dirty_log_stats st = { 0 };

	if (!pick(f, O_FREE, &o))
		return;
	switch (rnd(f, 5)) {
	case 0:
		en.mode = rnd(f, 3);
		en.flags = rnd(f, 2) ? KVMMIG_DIRTY_LOG_F_INITIALLY_SET : noise(f);
		en.batch_pages = rnd(f, 2) ? rnd(f, 4096) : noise(f);
		en.pad = rnd(f, 8) ? 0 : 1;
		ioctl(o.fd, KVMMIG_DIRTY_LOG_ENABLE, &en);
		break;
	case 1:
		dis.flags = rnd(f, 8) ? 0 : noise(f);
		ioctl(o.fd, KVMMIG_DIRTY_LOG_DISABLE, &dis);
		break;
	case 2:
	case 3:
		h.first_page = rnd(f, 4) ? 0 : rnd(f, 4) * 64;
		h.num_pages = rnd(f, 4) ? o.size / PAGE : rnd(f, 1024);
		if (h.num_pages > 1024)
			h.num_pages = 1024;
		h.bitmap = rnd(f, 16) ? (uintptr_t)bitmap : noise(f);
		h.flags = rnd(f, 8) ? 0 : noise(f);
		ioctl(o.fd, KVMMIG_DIRTY_LOG_HARVEST, &h);
		break;
	default:
		st.flags = rnd(f, 2) ? KVMMIG_DIRTY_LOG_STATS_F_RESET_MAX : noise(f);
		ioctl(o.fd, KVMMIG_DIRTY_LOG_STATS, &st);
		break;
	}
}

static void op_rw(struct fuzzer *f)
{
	char buf[2 * PAGE];
	struct obj o;
	off_t off;
	size_t len;

	if (!pick(f, O_FREE, &o))
		return;
	off = rnd(f, 600) * PAGE + (rnd(f, 4) ? 0 : rnd(f, PAGE));
	len = 1 + rnd(f, sizeof(buf));
	memset(buf, rnd(f, 256), len);
	if (rnd(f, 2))
		(void)!pwrite(o.fd, buf, len, off);
	else
		(void)!pread(o.fd, buf, len, off);
}

static void op_session(struct fuzzer *f)
{
	struct kvmmig_create_session args = { 0 };
	struct obj o = { .kind = O_SESSION }, r;
	int fds[3], n = 1 + rnd(f, 3), i;

	for (i = 0; i < n; i++)
		fds[i] = pick(f, O_REGION, &r) ? r.fd : (int)rnd(f, 64);
	args.flags = rnd(f, 2) ? KVMMIG_SESSION_F_INCOMING : noise(f) & 3;
	args.nr_regions = rnd(f, 16) ? n : rnd(f, 40);
	args.region_fds = (uintptr_t)fds;
	snprintf(args.name, sizeof(args.name), "fz%u", rnd(f, 1000));
	args.reserved[0] = rnd(f, 8) ? 0 : noise(f);
	o.fd = __kvmmig_create_session(f->dev, &args);
	if (o.fd < 0)
		return;
	o.id = args.id;
	add(&o);
}

/* Room for any blob GET_BLOB may copy out, whatever size was asked. */
static __thread char blob_data[KVMMIG_BLOB_MAX_SIZE];

static void op_session_ioctl(struct fuzzer *f)
{
	char *data = blob_data;
	struct kvmmig_session_info info = { 0 };
	struct kvmmig_session_ack ack = { 0 };
	struct kvmmig_session_blob blob = { 0 };
	struct obj o;

	if (!pick(f, O_SESSION, &o))
		return;
	switch (rnd(f, 4)) {
	case 0:
		info.flags = rnd(f, 8) ? 0 : noise(f);
		ioctl(o.fd, KVMMIG_SESSION_GET_INFO, &info);
		break;
	case 1:
		ack.state = rnd(f, 10);
		ioctl(o.fd, KVMMIG_SESSION_ACK, &ack);
		break;
	default:
		blob.kind = rnd(f, 5);
		blob.instance = rnd(f, 4);
		blob.index = rnd(f, 4);
		blob.size = rnd(f, 8) ? rnd(f, KVMMIG_BLOB_MAX_SIZE + 2) :
					noise(f);
		blob.data = rnd(f, 16) ? (uintptr_t)data : noise(f);
		snprintf(blob.name, sizeof(blob.name), "b%u", rnd(f, 10));
		memset(data, 7, 4096);
		ioctl(o.fd, rnd(f, 2) ? KVMMIG_SESSION_PUT_BLOB :
					KVMMIG_SESSION_GET_BLOB, &blob);
		break;
	}
}

static void op_open_region(struct fuzzer *f)
{
	struct kvmmig_open_session_region args = { 0 };
	struct obj o = { .kind = O_CLONE }, s;

	args.session_id = pick(f, O_SESSION, &s) ? s.id : rnd(f, 1000);
	args.index = rnd(f, 4);
	args.flags = rnd(f, 2) ? KVMMIG_OPEN_REGION_F_RDONLY : noise(f) & 3;
	o.fd = __kvmmig_open_session_region(f->dev, &args);
	if (o.fd < 0)
		return;
	o.size = args.size;
	add(&o);
}

static void op_netlink(struct fuzzer *f)
{
	struct nl_msg *msg;
	struct nlk_ext ext;
	char data[256];
	struct obj s;
	int i, n;

	if (!f->nl_ok)
		return;
	msg = nlk_msg(&f->nl, rnd(f, KVMMIG_CMD_MAX + 2),
		      rnd(f, 4) ? 0 : NLM_F_DUMP);
	if (!msg)
		return;
	n = rnd(f, 4);
	for (i = 0; i < n; i++) {
		int type = rnd(f, KVMMIG_A_MAX + 2);

		switch (rnd(f, 4)) {
		case 0:
			nla_put_u32(msg, KVMMIG_A_SESSION_ID,
				    pick(f, O_SESSION, &s) ? s.id : rnd(f, 100));
			break;
		case 1:
			nla_put_u32(msg, type, rand_r(&f->seed));
			break;
		case 2:
			nla_put_string(msg, type, "fz1");
			break;
		default:
			memset(data, rnd(f, 256), sizeof(data));
			nla_put(msg, type, rnd(f, sizeof(data)), data);
			break;
		}
	}
	__nlk_request(&f->nl, msg, NULL, NULL, &ext);
}

static void op_close(struct fuzzer *f)
{
	struct obj o;

	if (pick(f, O_FREE, &o))
		drop(o.fd, rnd(f, 4) == 0);
}

static void op_rmmod(struct fuzzer *f)
{
	/* Every thread holds /dev/kvmmig open: this must always fail. */
	if (!syscall(SYS_delete_module, "kvmmig", O_NONBLOCK))
		f->done[OP_RMMOD] += 1000000;
}

static void (*const ops[OP_NR])(struct fuzzer *) = {
	op_create, op_close, op_mmap, op_touch, op_protect, op_advise,
	op_remap, op_fork, op_log, op_rw, op_session, op_session_ioctl,
	op_open_region, op_netlink, op_rmmod,
};

static void *fuzzer_main(void *arg)
{
	struct fuzzer *f = arg;
	enum op op;

	while (time(NULL) < f->end) {
		op = rnd(f, OP_NR);
		if (op == OP_RMMOD && rnd(f, 50))
			continue;
		ops[op](f);
		f->done[op]++;
	}
	return NULL;
}

static long env_long(const char *name, long dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtol(s, NULL, 0) : dflt;
}

FIXTURE(fuzz) {
	int unused;
};

FIXTURE_SETUP(fuzz)
{
}

FIXTURE_TEARDOWN(fuzz)
{
}

TEST_F_TIMEOUT(fuzz, abi_fuzz_leaves_no_trace, 3600)
{
	struct fuzzer *f = calloc(THREADS, sizeof(*f));
	long seconds = env_long("KVMMIG_FUZZ_SECONDS", 20);
	unsigned int seed = env_long("KVMMIG_FUZZ_SEED", time(NULL));
	unsigned long totals[OP_NR] = { 0 }, faults = 0;
	struct sigaction sa = { 0 };
	char line[512] = "";
	long pages0, pages;
	int i, k, tries;

	ASSERT_NE(NULL, f);
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	pages0 = kvmmig_debugfs_pages();
	ASSERT_LE(0, pages0);
	TH_LOG("seed %u, %ld s, %d threads (KVMMIG_FUZZ_SEED=%u replays)",
	       seed, seconds, THREADS, seed);

	for (i = 0; i < THREADS; i++) {
		f[i].seed = seed + i;
		f[i].end = time(NULL) + seconds;
		f[i].dev = __kvmmig_open();
		ASSERT_LE(0, f[i].dev);
		f[i].nl_ok = !__nlk_open(&f[i].nl);
		ASSERT_TRUE(f[i].nl_ok);
		ASSERT_EQ(0, pthread_create(&f[i].thread, NULL, fuzzer_main,
					    &f[i]));
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(f[i].thread, NULL);
		for (k = 0; k < OP_NR; k++)
			totals[k] += f[i].done[k];
		faults += f[i].faults;
	}

	for (i = 0; i < MAX_OBJS; i++)
		if (objs[i].kind != O_FREE)
			drop(objs[i].fd, false);
	for (i = 0; i < THREADS; i++) {
		nlk_close(&f[i].nl);
		close(f[i].dev);
	}
	for (k = 0; k < OP_NR; k++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 "%s%s %lu", k ? ", " : "", op_names[k], totals[k]);
	TH_LOG("ops: %s; %lu stores hit a mapping another thread protected",
	       line, faults);
	/* rmmod cannot succeed while a thread holds /dev/kvmmig. */
	ASSERT_GT(1000000, totals[OP_RMMOD]);

	/* Every region is closed: their pages go back (children may lag). */
	for (tries = 0; tries < 100; tries++) {
		pages = kvmmig_debugfs_pages();
		if (pages == pages0)
			break;
		usleep(50000);
	}
	ASSERT_EQ(pages0, pages) TH_LOG("pages left behind");
	free(f);
}

KVMMIG_HARNESS_MAIN
