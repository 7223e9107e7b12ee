// SPDX-License-Identifier: GPL-2.0
/*
 * dirty_bench: measure every dirty-logging method on the same workload.
 *
 * For each method, region size and dirty fraction: the time of one harvest
 * after a pass that wrote that fraction of the pages, and the time of the
 * pass itself (the writer's cost of being tracked).  For each method and
 * size: the largest gap a writer sees between two consecutive TSC reads
 * while another thread harvests a fully dirty region (the guest stall).
 * Prints a table, and one JSON object per measurement on lines that start
 * with "json: ".  A benchmark: it fails only when a method reports a wrong
 * number of dirty pages or breaks.
 */

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "bench.h"
#include "kvmmig_util.h"

#define STALL_CODE_GPA	0x2000UL
#define STALL_WINDOW_US	100000
#define STALL_MAX_REPS	15
/* Gaps below this are common on the bed with no harvest running at all. */
#define STALL_HELD_NS	1000000

struct result {
	const char *method;
	size_t size_mib;
	double pct;
	uint64_t expected, reported;
	uint64_t harvest_ns, pass_ns;
	bool supported;
};

static double tsc_per_ns;
static int failures;
static bool profile;

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void calibrate_tsc(void)
{
	uint64_t t0 = bench_now_ns(), c0 = __rdtsc();

	usleep(50000);
	tsc_per_ns = (double)(__rdtsc() - c0) / (bench_now_ns() - t0);
}

/*
 * Base pages only: a huge page would make every method report 512 pages
 * for one write, and kvmmig regions are made of base pages too.
 */
static void *map_anon(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, size, MADV_NOHUGEPAGE);
	return p;
}

static void check(int ret, const char *what, const struct bench_method *m)
{
	if (ret)
		vmm_die("%s: %s: %s", m->name, what, strerror(-ret));
}

static void set_slot_flags(struct bench_ctx *ctx, uint32_t flags)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0, .flags = flags, .memory_size = ctx->size,
		.userspace_addr = (uintptr_t)ctx->mem,
	};

	if (ioctl(ctx->vm.vm_fd, KVM_SET_USER_MEMORY_REGION, &region))
		vmm_die("setting memslot flags %#x: %s", flags, strerror(errno));
}

static void set_entry(struct vmm_vcpu *vcpu, uint64_t rip, const struct vmm_args *a)
{
	struct kvm_regs regs;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs))
		vmm_die("KVM_GET_REGS: %s", strerror(errno));
	regs.rip = rip;
	regs.rax = a->eax, regs.rbx = a->ebx, regs.rcx = a->ecx;
	regs.rdx = a->edx, regs.rsi = a->esi, regs.rdi = a->edi;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs))
		vmm_die("KVM_SET_REGS: %s", strerror(errno));
}

/*
 * Set up a method on a fresh region; for guest methods, a VM around it.
 * Returns -EOPNOTSUPP, with nothing left set up, where this kernel lacks
 * the method.
 */
static int ctx_init(struct bench_ctx *ctx, const struct bench_method *m,
		     size_t size, uint32_t stride_pages)
{
	struct vmm_args args = {
		.ebx = BENCH_DATA_GPA,
		.ecx = (size - BENCH_DATA_GPA) / VMM_PAGE_SIZE / stride_pages,
		.edx = stride_pages * VMM_PAGE_SIZE,
		.esi = 1,
	};
	int ret;

	memset(ctx, 0, sizeof(*ctx));
	ctx->m = m;
	ctx->size = size;
	ctx->npages = size / VMM_PAGE_SIZE;
	ctx->bitmap = calloc((ctx->npages + 63) / 64, 8);
	ctx->mem = m->map ? m->map(ctx, size) : map_anon(size);
	if (!ctx->mem && (errno == ENOENT || errno == ENOTTY || errno == ENODEV)) {
		free(ctx->bitmap);
		return -EOPNOTSUPP;	/* no kvmmig on this kernel */
	}
	if (!ctx->bitmap || !ctx->mem)
		vmm_die("%s: no memory for %zu MiB: %s", m->name, size >> 20,
			strerror(errno));

	if (m->guest) {
		vmm_create(&ctx->vm, ctx->mem, size, 0);
		vmm_load_program(&ctx->vm, &bench_dirty_pass);
		memcpy((char *)ctx->mem + STALL_CODE_GPA, bench_stall.start,
		       bench_stall.end - bench_stall.start);
		ret = m->vm_setup ? m->vm_setup(ctx) : 0;
		if (ret == -EOPNOTSUPP)
			goto unsupported;
		check(ret, "setup", m);
		ctx->vcpu = vmm_vcpu_add(&ctx->vm, &args);
		set_slot_flags(ctx, m->slot_flags);
	}
	ret = m->arm ? m->arm(ctx) : 0;
	if (ret == -EOPNOTSUPP)
		goto unsupported;
	check(ret, "arm", m);
	return 0;

unsupported:
	if (m->guest)
		vmm_destroy(&ctx->vm);
	munmap(ctx->mem, ctx->size);
	free(ctx->bitmap);
	return -EOPNOTSUPP;
}

static void ctx_fini(struct bench_ctx *ctx)
{
	if (ctx->m->teardown)
		ctx->m->teardown(ctx);
	if (ctx->m->guest)
		vmm_destroy(&ctx->vm);
	munmap(ctx->mem, ctx->size);
	free(ctx->bitmap);
}

/* Run the guest through one pass of bench_dirty_pass. */
static void guest_pass(struct bench_ctx *ctx)
{
	uint64_t t0;
	int reason;

	for (;;) {
		reason = __vmm_vcpu_run(ctx->vcpu);
		if (reason == -EINTR)
			continue;
		if (reason == KVM_EXIT_IO && ctx->vcpu->run->io.port == BENCH_PORT_PASS)
			return;
		if (reason == KVM_EXIT_DIRTY_RING_FULL && ctx->m->ring_full) {
			t0 = bench_now_ns();
			check(ctx->m->ring_full(ctx), "ring full", ctx->m);
			ctx->ring_harvest_ns += bench_now_ns() - t0;
			continue;
		}
		vmm_die("%s: unexpected exit %d (%s)", ctx->m->name, reason,
			reason < 0 ? strerror(-reason) : vmm_exit_name(reason));
	}
}

static void host_pass(struct bench_ctx *ctx, uint32_t stride_pages, uint32_t pass)
{
	size_t off, step = stride_pages * VMM_PAGE_SIZE;

	for (off = BENCH_DATA_GPA; off + step <= ctx->size; off += step)
		*(volatile uint32_t *)((char *)ctx->mem + off) = pass;
}

static void do_pass(struct bench_ctx *ctx, uint32_t stride, uint32_t pass)
{
	if (ctx->m->guest)
		guest_pass(ctx);
	else
		host_pass(ctx, stride, pass);
}

static int measure_harvest_here(const struct bench_method *m, size_t size,
				uint32_t stride, struct result *r)
{
	struct bench_ctx ctx;
	uint64_t t0, dirty;

	r->method = m->name;
	r->size_mib = size >> 20;
	r->pct = 100.0 / stride;
	r->expected = (size - BENCH_DATA_GPA) / VMM_PAGE_SIZE / stride;
	r->supported = !ctx_init(&ctx, m, size, stride);
	if (!r->supported)
		return -EOPNOTSUPP;
	/* Pass 1 populates the pages; its harvest arms tracking on them. */
	do_pass(&ctx, stride, 1);
	check(m->harvest(&ctx, &dirty), "first harvest", m);

	ctx.ring_harvest_ns = 0;
	t0 = bench_now_ns();
	do_pass(&ctx, stride, 2);
	r->pass_ns = bench_now_ns() - t0 - ctx.ring_harvest_ns;

	t0 = bench_now_ns();
	check(m->harvest(&ctx, &dirty), "harvest", m);
	r->harvest_ns = bench_now_ns() - t0 + ctx.ring_harvest_ns;
	r->reported = dirty;
	ctx_fini(&ctx);
	return 0;
}

/* The CPU a thread of this process last ran on (field 39 of its stat). */
static int task_cpu(pid_t tid)
{
	char path[64], buf[1024], *p;
	int i, cpu = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p || !(p = strrchr(buf, ')')))
		return -1;
	for (i = 2; p && i < 39; i++)
		p = strchr(p + 1, ' ');
	if (p)
		cpu = atoi(p + 1);
	return cpu;
}

/* KVM's statistics summed over all VMs, for --profile. */
static const char *const kvm_stat_names[] = {
	"pf_taken", "pf_fixed", "pf_spurious", "pf_emulate", "exits",
	"remote_tlb_flush",
};
#define NR_KVM_STATS	(sizeof(kvm_stat_names) / sizeof(kvm_stat_names[0]))

static void read_kvm_stats(uint64_t *v)
{
	char path[96];
	unsigned int i;
	FILE *f;

	for (i = 0; i < NR_KVM_STATS; i++) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%s",
			 kvm_stat_names[i]);
		v[i] = 0;
		f = fopen(path, "r");
		if (f) {
			if (fscanf(f, "%lu", &v[i]) != 1)
				v[i] = 0;
			fclose(f);
		}
	}
}

struct stall_writer {
	struct bench_ctx *ctx;
	volatile bool stop;
	volatile uint64_t max_gap;	/* host writer only */
	volatile uint32_t writes;	/* host writer only */
	volatile pid_t tid;
	bool done;
};

static void on_sigusr1(int sig)
{
	(void)sig;
}

static void *guest_stall_thread(void *arg)
{
	struct stall_writer *w = arg;
	int reason;

	w->tid = gettid();
	while (!w->stop) {
		reason = __vmm_vcpu_run(w->ctx->vcpu);
		if (reason == -EINTR)
			continue;
		if (reason == KVM_EXIT_DIRTY_RING_FULL && w->ctx->m->ring_full) {
			check(w->ctx->m->ring_full(w->ctx), "ring full", w->ctx->m);
			continue;
		}
		vmm_die("stall: unexpected exit %d", reason);
	}
	return NULL;
}

static void *host_stall_thread(void *arg)
{
	struct stall_writer *w = arg;
	size_t off = BENCH_DATA_GPA;
	uint64_t t0, gap;

	w->tid = gettid();
	while (!w->stop) {
		t0 = __rdtsc();
		*(volatile char *)((char *)w->ctx->mem + off) = (char)t0;
		off += VMM_PAGE_SIZE;
		if (off >= w->ctx->size)
			off = BENCH_DATA_GPA;
		gap = __rdtsc() - t0;
		if (gap > w->max_gap)
			w->max_gap = gap;
		w->writes++;
	}
	return NULL;
}

static uint64_t *guest_max_gap(struct bench_ctx *ctx)
{
	return (uint64_t *)((char *)ctx->mem + BENCH_STALL_GPA);
}

static uint32_t writer_writes(struct stall_writer *w)
{
	if (!w->ctx->m->guest)
		return w->writes;
	return *(volatile uint32_t *)((char *)w->ctx->mem + BENCH_STALL_GPA +
				      BENCH_STALL_WRITES);
}

/* One stall measurement: the writer's largest gaps, in ns. */
struct stall {
	uint64_t gap;		/* while one harvest ran */
	uint64_t quiet;		/* as long again right after, no harvest */
	uint64_t harvest_ns;
	uint32_t writes;	/* pages the writer wrote during the harvest */
};

static uint64_t writer_max_gap(struct stall_writer *w)
{
	return w->ctx->m->guest ? *guest_max_gap(w->ctx) : w->max_gap;
}

static void writer_reset_gap(struct stall_writer *w)
{
	*guest_max_gap(w->ctx) = 0;
	w->max_gap = 0;
}

/*
 * The largest writer gap while one harvest of a dirty region runs, and the
 * largest over as long again right after it, when the writer still takes
 * the write faults the harvest armed but nothing else runs: a gap above that
 * is the harvest's.  -EOPNOTSUPP where the kernel lacks the method.
 */
static int measure_stall_here(const struct bench_method *m, size_t size,
			      struct stall *st)
{
	struct stall_writer w = { 0 };
	struct vmm_args args = {
		.ebx = BENCH_DATA_GPA, .ecx = size - BENCH_DATA_GPA,
		.edi = BENCH_STALL_GPA,
	};
	uint64_t st0[NR_KVM_STATS], st1[NR_KVM_STATS];
	struct bench_ctx ctx;
	uint64_t dirty, t0;
	pthread_t thread;
	unsigned int i;

	if (ctx_init(&ctx, m, size, 1))
		return -EOPNOTSUPP;
	do_pass(&ctx, 1, 1);
	check(m->harvest(&ctx, &dirty), "first harvest", m);
	do_pass(&ctx, 1, 2);			/* every page dirty again */

	w.ctx = &ctx;
	if (m->guest) {
		set_entry(ctx.vcpu, STALL_CODE_GPA, &args);
		pthread_create(&thread, NULL, guest_stall_thread, &w);
	} else {
		pthread_create(&thread, NULL, host_stall_thread, &w);
	}
	/* The writer must be writing before the harvest starts. */
	for (t0 = bench_now_ns(); !writer_writes(&w); usleep(1000))
		if (bench_now_ns() - t0 > 10000000000ULL)
			vmm_die("%s: the stall writer does not start", m->name);
	usleep(STALL_WINDOW_US);		/* the writer settles */

	writer_reset_gap(&w);
	st->writes = writer_writes(&w);
	read_kvm_stats(st0);
	t0 = bench_now_ns();
	check(m->harvest(&ctx, &dirty), "harvest", m);
	st->harvest_ns = bench_now_ns() - t0;
	read_kvm_stats(st1);
	st->writes = writer_writes(&w) - st->writes;
	st->gap = writer_max_gap(&w) / tsc_per_ns;
	writer_reset_gap(&w);
	usleep(st->harvest_ns / 1000 + 1);
	st->quiet = writer_max_gap(&w) / tsc_per_ns;
	if (profile) {
		printf("# profile: %s: harvester on CPU %d, writer on CPU %d;",
		       m->name, sched_getcpu(), task_cpu(w.tid));
		for (i = 0; i < NR_KVM_STATS; i++)
			printf(" %s %lu", kvm_stat_names[i],
			       (unsigned long)(st1[i] - st0[i]));
		printf("\n");
	}

	w.stop = true;
	if (m->guest) {
		ctx.vcpu->run->immediate_exit = 1;
		while (pthread_tryjoin_np(thread, NULL)) {
			pthread_kill(thread, SIGUSR1);
			usleep(1000);
		}
	} else {
		pthread_join(thread, NULL);
	}
	ctx_fini(&ctx);
	return 0;
}

/*
 * Host-writer methods measure in a child process.  This one has had KVM
 * VMs, and an mm that had one keeps its MMU-notifier subscription for
 * life: every invalidation would call into KVM for nothing, and kvmmig
 * refuses A/D mode for memory such an mm maps.  A forked mm starts with
 * no subscribers, like the process of a host writer that never ran a VM.
 */
struct measurement {
	int64_t ret;
	struct result r;
	struct stall st;
};

static struct measurement *fork_measurement(pid_t *pid)
{
	struct measurement *out;

	out = mmap(NULL, sizeof(*out), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (out == MAP_FAILED)
		vmm_die("mapping a measurement: %s", strerror(errno));
	fflush(stdout);
	*pid = fork();
	if (*pid < 0)
		vmm_die("fork: %s", strerror(errno));
	return out;
}

/* In the child: hand the result over and exit.  In the parent: wait. */
static int64_t finish_measurement(pid_t pid, struct measurement *out)
{
	int status;

	if (!pid) {
		fflush(stdout);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		vmm_die("a host-writer measurement failed (status %#x)", status);
	return out->ret;
}

static int measure_harvest(const struct bench_method *m, size_t size,
			   uint32_t stride, struct result *r)
{
	struct measurement *out;
	int64_t ret;
	pid_t pid;

	if (m->guest)
		return measure_harvest_here(m, size, stride, r);
	out = fork_measurement(&pid);
	if (!pid)
		out->ret = measure_harvest_here(m, size, stride, &out->r);
	ret = finish_measurement(pid, out);
	*r = out->r;
	munmap(out, sizeof(*out));
	return ret;
}

static int measure_stall(const struct bench_method *m, size_t size,
			 struct stall *st)
{
	struct measurement *out;
	int64_t ret;
	pid_t pid;

	if (m->guest)
		return measure_stall_here(m, size, st);
	out = fork_measurement(&pid);
	if (!pid)
		out->ret = measure_stall_here(m, size, &out->st);
	ret = finish_measurement(pid, out);
	*st = out->st;
	munmap(out, sizeof(*out));
	return ret;
}

static bool listed(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *p = list;

	if (!list)
		return true;
	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == ',') && (p[len] == ',' || !p[len]))
			return true;
		p += len;
	}
	return false;
}

/*
 * Missing a written page is a bug.  A few extra pages are not: KVM may
 * dirty guest pages of its own accord, and a superset is safe to migrate.
 */
#define EXTRA_PAGES_OK	8

static bool count_ok(const struct result *r)
{
	if (!strcmp(r->method, "untracked"))
		return true;
	return r->reported >= r->expected &&
	       r->reported <= r->expected + EXTRA_PAGES_OK;
}

static void print_result(const struct result *r, uint64_t best_peer_ns)
{
	if (!r->supported) {
		printf("%-26s %6zu %5.1f%%   not supported by this kernel\n",
		       r->method, r->size_mib, r->pct);
		printf("json: {\"figure\":\"harvest\",\"method\":\"%s\",\"region_mib\":%zu,"
		       "\"dirty_pct\":%.2f,\"supported\":false}\n",
		       r->method, r->size_mib, r->pct);
		return;
	}

	double per_page = r->reported ? (double)r->harvest_ns / r->reported : 0;
	bool ok = count_ok(r);

	printf("%-26s %6zu %5.1f%% %8lu %8lu %12.3f %10.1f %12.3f",
	       r->method, r->size_mib, r->pct, (unsigned long)r->expected,
	       (unsigned long)r->reported, r->harvest_ns / 1e6, per_page,
	       r->pass_ns / 1e6);
	if (best_peer_ns)
		printf(" %6.2f", (double)r->harvest_ns / best_peer_ns);
	printf("%s\n", ok ? "" : "  WRONG COUNT");
	if (!ok)
		failures++;
	printf("json: {\"figure\":\"harvest\",\"method\":\"%s\",\"region_mib\":%zu,"
	       "\"dirty_pct\":%.2f,\"dirty_pages\":%lu,\"reported\":%lu,"
	       "\"harvest_ns\":%lu,\"ns_per_dirty_page\":%.1f,\"write_pass_ns\":%lu}\n",
	       r->method, r->size_mib, r->pct, (unsigned long)r->expected,
	       (unsigned long)r->reported, (unsigned long)r->harvest_ns,
	       per_page, (unsigned long)r->pass_ns);
}

#define SCALING_PAGES	2000

static uint32_t scaling_stride(size_t size)
{
	return (size - BENCH_DATA_GPA) / VMM_PAGE_SIZE / SCALING_PAGES;
}

/*
 * One row of the harvest table: every method on one size and stride.  A
 * kvmmig method's ratio is to the best peer with the same kind of writer.
 */
static void harvest_row(const struct bench_method **methods, int nmethods,
			size_t size, uint32_t stride, struct result *results)
{
	uint64_t best[2] = { 0, 0 };
	struct result *r;
	int i;

	for (i = 0; i < nmethods; i++) {
		r = &results[i];
		if (measure_harvest(methods[i], size, stride, r))
			continue;
		if (methods[i]->peer && strcmp(r->method, "untracked") &&
		    (!best[methods[i]->guest] || r->harvest_ns < best[methods[i]->guest]))
			best[methods[i]->guest] = r->harvest_ns;
	}
	for (i = 0; i < nmethods; i++)
		print_result(&results[i],
			     methods[i]->peer ? 0 : best[methods[i]->guest]);
	fflush(stdout);
}

static int parse_list(const char *s, int *out, int max)
{
	int n = 0;
	char *end;

	while (*s && n < max) {
		out[n++] = strtol(s, &end, 10);
		if (end == s || out[n - 1] <= 0)
			return -1;
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, int n)
{
	qsort(v, n, sizeof(v[0]), cmp_u64);
	return v[n / 2];
}

/*
 * The stall figures of one region size, over @reps harvests per method:
 * the median and the largest gap, the harvests during which the writer was
 * held for at least 1 ms and half the harvest (a lock held across it) and
 * the median gap of the quiet window after each harvest (the bed's own noise
 * with the same write faults).  A single gap on this bed is often noise,
 * hence the repetitions; a writer held for a whole harvest is not.
 */
static void stall_rows(const struct bench_method **methods, int nmethods,
		       int size_mib, int reps)
{
	uint64_t gaps[STALL_MAX_REPS], quiets[STALL_MAX_REPS];
	uint64_t harvests[STALL_MAX_REPS], rates[STALL_MAX_REPS];
	uint64_t get_gap = 0, get_worst = 0, gap, worst, quiet, harvest;
	struct stall st;
	int i, r, held;

	for (i = 0; i < nmethods; i++) {
		held = 0;
		for (r = 0; r < reps; r++) {
			if (measure_stall(methods[i], (size_t)size_mib << 20,
					  &st) < 0)
				break;
			gaps[r] = st.gap;
			quiets[r] = st.quiet;
			harvests[r] = st.harvest_ns;
			/* Writer pages per second while the harvest ran. */
			rates[r] = st.harvest_ns ?
				   st.writes * 1000000000ULL / st.harvest_ns : 0;
			held += st.gap >= STALL_HELD_NS &&
				st.gap * 2 >= st.harvest_ns;
			printf("json: {\"figure\":\"stall\",\"method\":\"%s\","
			       "\"region_mib\":%d,\"rep\":%d,\"max_gap_ns\":%lu,"
			       "\"quiet_gap_ns\":%lu,\"harvest_ns\":%lu,"
			       "\"writer_pages\":%u}\n",
			       methods[i]->name, size_mib, r,
			       (unsigned long)st.gap, (unsigned long)st.quiet,
			       (unsigned long)st.harvest_ns, st.writes);
		}
		if (r < reps) {
			printf("%-26s %6d   not supported by this kernel\n",
			       methods[i]->name, size_mib);
			continue;
		}
		gap = median(gaps, reps);
		worst = gaps[reps - 1];
		quiet = median(quiets, reps);
		harvest = median(harvests, reps);
		if (!strcmp(methods[i]->name, "kvm-get-dirty-log")) {
			get_gap = gap;
			get_worst = worst;
		}
		printf("%-26s %6d %10.1f %10.1f %4d/%-2d %10.1f %10.3f %9.1f",
		       methods[i]->name, size_mib, gap / 1e3, worst / 1e3, held,
		       reps, quiet / 1e3, harvest / 1e6,
		       median(rates, reps) / 1e3);
		if (!methods[i]->peer && methods[i]->guest && get_gap)
			printf(" %8.2f %8.2f", (double)gap / get_gap,
			       (double)worst / get_worst);
		printf("\n");
		printf("json: {\"figure\":\"stall_median\",\"method\":\"%s\","
		       "\"region_mib\":%d,\"reps\":%d,\"max_gap_ns\":%lu,"
		       "\"worst_gap_ns\":%lu,\"held\":%d,\"quiet_gap_ns\":%lu,"
		       "\"harvest_ns\":%lu}\n",
		       methods[i]->name, size_mib, reps, (unsigned long)gap,
		       (unsigned long)worst, held, (unsigned long)quiet,
		       (unsigned long)harvest);
		fflush(stdout);
	}
}

/*
 * --profile: have kvmmig log where each harvest's time goes (the kernel
 * log, one line per harvest; it slows the harvest down a little).
 */
static void set_kparam(const char *name, const char *val)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/kvmmig/parameters/%s", name);
	f = fopen(path, "w");
	if (!f || fputs(val, f) < 0 || fclose(f))
		fprintf(stderr, "dirty_bench: cannot set kvmmig.%s\n", name);
}

static void set_profile(void)
{
	profile = true;
	set_kparam("harvest_profile", "1");
}

static void usage(FILE *f)
{
	fprintf(f, "usage: dirty_bench [--smoke] [--sizes MIB,...] [--fractions PCT,...]\n"
		   "                   [--methods NAME,...] [--no-stall | --stall-only]\n"
		   "                   [--stall-reps N] [--profile] [--kparam NAME=VALUE]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "smoke", no_argument, NULL, 's' },
		{ "sizes", required_argument, NULL, 'z' },
		{ "fractions", required_argument, NULL, 'f' },
		{ "methods", required_argument, NULL, 'm' },
		{ "no-stall", no_argument, NULL, 'n' },
		{ "stall-only", no_argument, NULL, 'o' },
		{ "stall-reps", required_argument, NULL, 'r' },
		{ "profile", no_argument, NULL, 'p' },
		{ "kparam", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int sizes[8] = { 64, 256, 1024 }, nsizes = 3;
	int pcts[8] = { 1, 10, 100 }, npcts = 3;
	const struct bench_method *methods[32];
	struct result results[8][8][32];
	const char *only = NULL;
	bool stall = true, harvest = true;
	int stall_reps = 5;
	int nmethods = 0, i, s, p, opt;
	struct sigaction sa = { .sa_handler = on_sigusr1 };

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			sizes[0] = 8, nsizes = 1;
			pcts[0] = 10, pcts[1] = 100, npcts = 2;
			stall_reps = 1;
			break;
		case 'z':
			nsizes = parse_list(optarg, sizes, 8);
			break;
		case 'f':
			npcts = parse_list(optarg, pcts, 8);
			break;
		case 'm':
			only = optarg;
			break;
		case 'n':
			stall = false;
			break;
		case 'o':
			harvest = false;
			break;
		case 'r':
			stall_reps = kvmmig_parse_num(optarg, "--stall-reps",
						      STALL_MAX_REPS);
			if (stall_reps < 1) {
				usage(stderr);
				return 2;
			}
			break;
		case 'p':
			set_profile();
			break;
		case 'k': {
			char *eq = strchr(optarg, '=');

			if (!eq) {
				usage(stderr);
				return 2;
			}
			*eq = 0;
			set_kparam(optarg, eq + 1);
			printf("# kvmmig.%s=%s\n", optarg, eq + 1);
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (nsizes <= 0 || npcts <= 0) {
		usage(stderr);
		return 2;
	}
	for (p = 0; p < npcts; p++)
		if (pcts[p] > 100 || 100 % pcts[p]) {
			fprintf(stderr, "dirty_bench: fraction %d%% does not divide 100\n", pcts[p]);
			return 2;
		}

	sigaction(SIGUSR1, &sa, NULL);
	calibrate_tsc();
	for (i = 0; i < bench_nr_kvm_methods; i++)
		if (listed(only, bench_kvm_methods[i].name))
			methods[nmethods++] = &bench_kvm_methods[i];
	for (i = 0; i < bench_nr_kvmmig_methods; i++)
		if (listed(only, bench_kvmmig_methods[i].name))
			methods[nmethods++] = &bench_kvmmig_methods[i];
	for (i = 0; i < bench_nr_host_methods; i++)
		if (listed(only, bench_host_methods[i].name))
			methods[nmethods++] = &bench_host_methods[i];

	if (!harvest)
		goto stall;
	printf("%-26s %6s %6s %8s %8s %12s %10s %12s %6s\n", "method", "MiB",
	       "dirty", "pages", "reported", "harvest ms", "ns/page",
	       "write ms", "/peer");
	for (s = 0; s < nsizes; s++)
		for (p = 0; p < npcts; p++)
			harvest_row(methods, nmethods, (size_t)sizes[s] << 20,
				    100 / pcts[p], results[s][p]);

	/*
	 * Scaling: the same SCALING_PAGES dirty pages in the smallest and the
	 * largest region; an O(dirty) harvest costs the same in both.
	 */
	if (nsizes > 1) {
		printf("\nscaling: %d dirty pages in %d MiB and in %d MiB\n",
		       SCALING_PAGES, sizes[0], sizes[nsizes - 1]);
		for (s = 0; s < nsizes; s += nsizes - 1)
			harvest_row(methods, nmethods, (size_t)sizes[s] << 20,
				    scaling_stride((size_t)sizes[s] << 20),
				    results[s][0]);
	}

stall:
	if (stall) {
		printf("\n%-26s %6s %10s %10s %7s %10s %10s %9s %8s %8s\n",
		       "method", "MiB", "stall us", "worst us", "held",
		       "quiet us", "harvest ms", "writes/ms", "/get-log",
		       "worst/gl");
		for (s = 0; s < nsizes; s++)
			stall_rows(methods, nmethods, sizes[s], stall_reps);
	}
	if (failures)
		printf("dirty_bench: %d measurement(s) reported a wrong dirty count\n",
		       failures);
	return failures ? 1 : 0;
}
