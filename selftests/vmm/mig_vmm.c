// SPDX-License-Identifier: GPL-2.0
/*
 * mig_vmm: the reference migrating VMM.
 *
 *   mig_vmm --name NAME --mem MB [--incoming] [--regions N] [--vcpus N]
 *           [--rate PAGES_PER_S] [--quick] [--digest] [--advance PAGES]
 *           [--timeout S]
 *
 * Guest RAM is N kvmmig regions (NAME-ram0, ...) mapped back to back as one
 * memslot, running the A-B workload (lib/ab.h), tied together in a kvmmig
 * session named NAME.  The VMM follows the session's state machine
 * (uapi/linux/kvmmig.h): it stops its vCPUs and deposits their state when
 * migd pauses it, restarts them when migd resumes it, and exits when the VM
 * was handed over.  With --incoming it waits for a VM instead, loads the
 * vCPU state that arrives with the memory, checks the A-B pattern before
 * the guest runs again, and only then acknowledges; the guest then runs
 * here and can be migrated away again.
 *
 * One status line per event on stdout, "mig_vmm: key=value ...":
 *   state=STATE ...          every session state change it sees
 *   verdict=arrived ab=...   the memory check on arrival (before running);
 *                            digest=ok|bad when the source sent a digest
 *   verdict=running ab=...   after arrival: the guest advanced by a pass
 *                            (running=ok) and the pattern still holds
 *   verdict=check ab=...     the same, on the "check" command
 *   error=MESSAGE            why it is about to exit 1 (the rest of the line)
 * Commands on stdin, one per line: check, rate N, status, quit.
 *
 * Exit status: 0 handed over or told to quit (or SIGINT/SIGTERM), 1 error
 * or a failed memory check on arrival, 2 usage, 3 the incoming migration
 * was aborted.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "ab.h"
#include "kvmmig_util.h"
#include "session_util.h"
#include "vmm.h"

#define EXIT_USAGE	2
#define EXIT_ABORTED	3

#define CONFIG_BLOB	"mig_vmm"
#define CONFIG_MAGIC	"migvmm01"

/* The VMM's own state, a DEVICE blob: the destination must match it. */
struct vm_config {
	char magic[8];
	uint64_t mem_size;
	uint32_t nr_vcpus;
	uint32_t nr_regions;
	uint32_t flags;		/* CONFIG_F_* */
	uint32_t pad;
	uint64_t digest;	/* ab_digest() of RAM once paused */
	uint64_t rate;		/* --rate (the guest's pace is in its RAM) */
	uint64_t reserved[1];
};

#define CONFIG_F_DIGEST	(1U << 0)

/* The vCPU state blobs, one of each per vCPU (instance = vCPU index). */
#define STATE_FIELD(name, field) \
	{ name, offsetof(struct vmm_vcpu_state, field), \
	  sizeof(((struct vmm_vcpu_state *)0)->field) }
static const struct {
	const char *name;
	size_t offset;
	size_t size;
} state_fields[] = {
	STATE_FIELD("kvm_regs", regs),
	STATE_FIELD("kvm_sregs", sregs),
	STATE_FIELD("kvm_fpu", fpu),
	STATE_FIELD("kvm_vcpu_events", events),
	STATE_FIELD("kvm_mp_state", mp_state),
	STATE_FIELD("msr_tsc", tsc),
};
#define NR_STATE_FIELDS	(sizeof(state_fields) / sizeof(state_fields[0]))

struct opts {
	const char *name;
	unsigned long mem_mb;
	int nr_regions;
	int nr_vcpus;
	bool incoming;
	uint64_t rate;
	bool quick;
	bool digest;
	uint32_t advance;
	int timeout_s;
};

struct mig_vmm {
	struct opts o;
	int dev;
	int region_fds[KVMMIG_SESSION_MAX_REGIONS];
	void *mem;
	size_t mem_size;
	struct vmm_vm vm;
	bool vm_live;
	long tsc_khz;

	int sfd;
	uint32_t id;
	uint32_t state;		/* last state seen, 0 before the first */
	bool running;		/* vCPU threads run the guest */
	bool have_guest;	/* the vCPUs hold a guest to run */
	struct vm_config cfg;	/* what arrived with the VM */
	uint64_t arrived_ns;

	/* A pending running check: wait for progress, then check memory. */
	const char *check;
	uint32_t check_before[VMM_MAX_VCPUS];
	uint32_t check_need;
	uint64_t check_start_ns;

	int sigfd;
	bool stdin_open;
	char in[256];
	size_t in_len;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static double ms_since(uint64_t ns)
{
	return (now_ns() - ns) / 1e6;
}

static void __attribute__((format(printf, 1, 2))) status(const char *fmt, ...)
{
	va_list ap;

	fputs("mig_vmm: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The last key: its value is the rest of the line. */
	status("error=%s", msg);
	exit(1);
}

static const char *state_name(uint32_t state)
{
	static const char *const names[] = {
		[KVMMIG_SESSION_RUNNING] = "running",
		[KVMMIG_SESSION_PAUSING] = "pausing",
		[KVMMIG_SESSION_PAUSED] = "paused",
		[KVMMIG_SESSION_DONE] = "done",
		[KVMMIG_SESSION_WAITING] = "waiting",
		[KVMMIG_SESSION_RECEIVING] = "receiving",
		[KVMMIG_SESSION_ARRIVED] = "arrived",
		[KVMMIG_SESSION_ABORTED] = "aborted",
	};

	if (state < sizeof(names) / sizeof(names[0]) && names[state])
		return names[state];
	return "unknown";
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: mig_vmm --name NAME --mem MB [--incoming] [--regions N] [--vcpus N]\n"
		"               [--rate PAGES_PER_S] [--quick] [--digest] [--advance PAGES]\n"
		"               [--timeout S]\n"
		"  --name NAME      session name (regions are NAME-ram0, NAME-ram1, ...)\n"
		"  --mem MB         guest RAM in MiB\n"
		"  --incoming       wait for the VM to arrive instead of starting one\n"
		"  --regions N      split RAM into N regions (default 1)\n"
		"  --vcpus N        vCPUs, each walking its share of RAM (default 1)\n"
		"  --rate N         pace the guest to N page increments per second\n"
		"  --quick          check only each page's A-B byte and tag, not its zeros\n"
		"  --digest         when paused, send a digest of all RAM with the state;\n"
		"                   the destination compares it with what arrived\n"
		"  --advance N      increments per vCPU a running check waits for\n"
		"                   (default: a whole pass, or one second when paced)\n"
		"  --timeout S      how long a running check waits (default 120)\n"
		"stdin commands: check, rate N, status, quit\n");
}

static void parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "mem", required_argument, NULL, 'm' },
		{ "incoming", no_argument, NULL, 'i' },
		{ "regions", required_argument, NULL, 'r' },
		{ "vcpus", required_argument, NULL, 'c' },
		{ "rate", required_argument, NULL, 'R' },
		{ "quick", no_argument, NULL, 'q' },
		{ "digest", no_argument, NULL, 'D' },
		{ "advance", required_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->nr_regions = 1;
	o->nr_vcpus = 1;
	o->timeout_s = 120;
	while ((c = getopt_long(argc, argv, "n:m:ir:c:R:qDa:t:h", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'n': o->name = optarg; break;
		case 'm': o->mem_mb = kvmmig_parse_num(optarg, "--mem", 1UL << 20); break;
		case 'i': o->incoming = true; break;
		case 'r':
			o->nr_regions = kvmmig_parse_num(optarg, "--regions",
						  KVMMIG_SESSION_MAX_REGIONS);
			break;
		case 'c':
			o->nr_vcpus = kvmmig_parse_num(optarg, "--vcpus", VMM_MAX_VCPUS);
			break;
		case 'R': o->rate = kvmmig_parse_num(optarg, "--rate", 1UL << 30); break;
		case 'q': o->quick = true; break;
		case 'D': o->digest = true; break;
		case 'a': o->advance = kvmmig_parse_num(optarg, "--advance", 1UL << 31); break;
		case 't': o->timeout_s = kvmmig_parse_num(optarg, "--timeout", 1UL << 20); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(EXIT_USAGE);
		}
	}
	if (optind != argc || !o->name || !o->mem_mb || !o->nr_regions ||
	    !o->nr_vcpus) {
		usage(stderr);
		exit(EXIT_USAGE);
	}
	/* Room for "-ramNN" in a region name. */
	if (!*o->name || strlen(o->name) >= KVMMIG_REGION_NAME_LEN - 6) {
		fprintf(stderr, "mig_vmm: --name must be 1 to %d characters\n",
			KVMMIG_REGION_NAME_LEN - 7);
		exit(EXIT_USAGE);
	}
	if ((o->mem_mb << 20) < AB_MIN_MEM(o->nr_vcpus) ||
	    (o->mem_mb << 20) / o->nr_regions < VMM_PAGE_SIZE) {
		fprintf(stderr, "mig_vmm: --mem too small for the vCPUs or regions\n");
		exit(EXIT_USAGE);
	}
}

/* Map the regions back to back: the guest sees one contiguous RAM. */
static void create_memory(struct mig_vmm *m)
{
	size_t each, size, off = 0;
	char name[KVMMIG_REGION_NAME_LEN];
	char *base;
	int i, fd;

	m->mem_size = m->o.mem_mb << 20;
	each = m->mem_size / m->o.nr_regions / VMM_PAGE_SIZE * VMM_PAGE_SIZE;
	base = mmap(NULL, m->mem_size, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		fail("reserving %zu bytes: %s", m->mem_size, strerror(errno));
	for (i = 0; i < m->o.nr_regions; i++) {
		size = i == m->o.nr_regions - 1 ? m->mem_size - off : each;
		snprintf(name, sizeof(name), "%s-ram%d", m->o.name, i);
		fd = kvmmig_region(m->dev, size, name, -1);
		if (fd < 0)
			fail("creating region %s of %zu bytes: %s", name, size,
			     strerror(-fd));
		/*
		 * An incoming VM's pages are all coming: map them now, while
		 * WAITING, so that the check on arrival (inside the downtime)
		 * takes no page faults.
		 */
		if (mmap(base + off, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED |
			 (m->o.incoming ? MAP_POPULATE : 0), fd, 0) == MAP_FAILED)
			fail("mapping region %s: %s", name, strerror(errno));
		m->region_fds[i] = fd;
		off += size;
	}
	m->mem = base;
}

static void create_session(struct mig_vmm *m)
{
	int fd = kvmmig_session(m->dev, m->o.name,
				m->o.incoming ? KVMMIG_SESSION_F_INCOMING : 0,
				m->region_fds, m->o.nr_regions, &m->id);

	if (fd < 0)
		fail("creating session %s: %s", m->o.name, strerror(-fd));
	m->sfd = fd;
}

static void resume_vcpus(struct mig_vmm *m)
{
	int i;

	for (i = 0; i < m->vm.nr_vcpus; i++)
		vmm_vcpu_resume(&m->vm.vcpus[i]);
	m->running = true;
}

static void pause_vcpus(struct mig_vmm *m)
{
	int i, ret;

	for (i = 0; i < m->vm.nr_vcpus; i++) {
		ret = vmm_vcpu_pause(&m->vm.vcpus[i]);
		if (ret != -EINTR)
			fail("vCPU %d stopped with exit %d (%s)", i, ret,
			     ret < 0 ? strerror(-ret) : vmm_exit_name(ret));
	}
	m->running = false;
}

static uint32_t default_advance(struct mig_vmm *m)
{
	uint64_t gpa, pages, per_s;

	if (m->o.advance)
		return m->o.advance;
	ab_share(m->mem_size, m->o.nr_vcpus, 0, &gpa, &pages);
	per_s = m->o.rate / m->o.nr_vcpus;
	return m->o.rate && per_s < pages ? per_s : pages;
}

/* Memory check with the vCPUs stopped; prints "verdict=LABEL ...". */
static bool check_memory(struct mig_vmm *m, const char *label,
			 const char *extra)
{
	struct ab_result res;
	uint64_t start = now_ns();
	char line[256];

	ab_check(m->mem, m->mem_size, m->o.nr_vcpus, !m->o.quick, &res);
	ab_format(&res, line, sizeof(line));
	status("verdict=%s %s%s check_ms=%.1f", label, line, extra,
	       ms_since(start));
	return res.ok;
}

static void start_check(struct mig_vmm *m, const char *label)
{
	ab_incs(m->mem, m->o.nr_vcpus, m->check_before);
	m->check = label;
	m->check_need = default_advance(m);
	m->check_start_ns = now_ns();
}

/* Called on every turn of the loop while a check is pending. */
static void poll_check(struct mig_vmm *m)
{
	uint32_t adv = ab_advanced(m->mem, m->o.nr_vcpus, m->check_before);
	double waited = ms_since(m->check_start_ns);
	char extra[128];

	if (adv < m->check_need && waited < m->o.timeout_s * 1e3)
		return;
	snprintf(extra, sizeof(extra), " running=%s advanced=%u wait_ms=%.0f",
		 adv >= m->check_need ? "ok" : "stalled", adv, waited);
	pause_vcpus(m);
	check_memory(m, m->check, extra);
	resume_vcpus(m);
	m->check = NULL;
}

static void cancel_check(struct mig_vmm *m, const char *why)
{
	if (!m->check)
		return;
	status("verdict=%s running=%s advanced=%u", m->check, why,
	       ab_advanced(m->mem, m->o.nr_vcpus, m->check_before));
	m->check = NULL;
}

/* PAUSING: stop, deposit the state, acknowledge. */
static void do_pause(struct mig_vmm *m)
{
	struct vmm_vcpu_state st;
	struct vm_config cfg;
	uint64_t start = now_ns();
	unsigned int blobs = 0;
	size_t bytes = 0, f;
	int i, ret;

	cancel_check(m, "interrupted");
	if (m->running)
		pause_vcpus(m);

	memset(&cfg, 0, sizeof(cfg));
	memcpy(cfg.magic, CONFIG_MAGIC, sizeof(cfg.magic));
	cfg.mem_size = m->mem_size;
	cfg.nr_vcpus = m->o.nr_vcpus;
	cfg.nr_regions = m->o.nr_regions;
	cfg.rate = m->o.rate;
	if (m->o.digest) {
		cfg.flags |= CONFIG_F_DIGEST;
		cfg.digest = ab_digest(m->mem, m->mem_size);
	}
	ret = kvmmig_put_blob(m->sfd, KVMMIG_BLOB_DEVICE, 0, CONFIG_BLOB, &cfg,
			      sizeof(cfg));
	for (i = 0; !ret && i < m->vm.nr_vcpus; i++) {
		ret = __vmm_vcpu_save(&m->vm.vcpus[i], &st);
		if (ret)
			fail("saving vCPU %d: %s: %s", i, vmm_state_step,
			     strerror(-ret));
		for (f = 0; !ret && f < NR_STATE_FIELDS; f++) {
			ret = kvmmig_put_blob(m->sfd, KVMMIG_BLOB_VCPU, i,
					      state_fields[f].name,
					      (char *)&st + state_fields[f].offset,
					      state_fields[f].size);
			bytes += state_fields[f].size;
			blobs++;
		}
	}
	if (!ret)
		ret = kvmmig_session_ack(m->sfd, KVMMIG_SESSION_PAUSING);
	/* EBUSY/ESTALE: migd moved the session on (resumed it); follow it. */
	if (ret && ret != -EBUSY && ret != -ESTALE)
		fail("pausing for migd: %s", strerror(-ret));
	if (!ret)
		status("saved blobs=%u blob_bytes=%zu pause_ms=%.1f",
		       blobs + 1, bytes + sizeof(cfg), ms_since(start));
}

static void load_blobs(struct mig_vmm *m)
{
	static char data[KVMMIG_BLOB_MAX_SIZE];
	struct vmm_vcpu_state st[VMM_MAX_VCPUS];
	unsigned int seen[VMM_MAX_VCPUS] = { 0 };
	struct kvmmig_session_blob blob;
	struct vm_config cfg;
	bool have_cfg = false;

	memset(&cfg, 0, sizeof(cfg));
	uint32_t index;
	size_t f;
	int i, ret;

	memset(st, 0, sizeof(st));
	for (index = 0;; index++) {
		ret = kvmmig_get_blob(m->sfd, index, data, sizeof(data), &blob);
		if (ret == -ENOENT)
			break;
		if (ret < 0)
			fail("collecting state blob %u: %s", index, strerror(-ret));
		if (blob.kind == KVMMIG_BLOB_DEVICE &&
		    !strcmp(blob.name, CONFIG_BLOB)) {
			if (blob.size != sizeof(cfg))
				fail("blob %s has %u bytes", blob.name, blob.size);
			memcpy(&cfg, data, sizeof(cfg));
			have_cfg = true;
			continue;
		}
		if (blob.kind != KVMMIG_BLOB_VCPU)
			fail("unexpected blob kind %u (%s)", blob.kind, blob.name);
		if (blob.instance >= (uint32_t)m->vm.nr_vcpus)
			fail("state for vCPU %u, this VM has %d", blob.instance,
			     m->vm.nr_vcpus);
		for (f = 0; f < NR_STATE_FIELDS; f++)
			if (!strcmp(blob.name, state_fields[f].name))
				break;
		if (f == NR_STATE_FIELDS)
			fail("unknown vCPU blob %s", blob.name);
		if (blob.size != state_fields[f].size)
			fail("vCPU blob %s has %u bytes, not %zu", blob.name,
			     blob.size, state_fields[f].size);
		memcpy((char *)&st[blob.instance] + state_fields[f].offset, data,
		       blob.size);
		seen[blob.instance] |= 1U << f;
	}
	if (!have_cfg || memcmp(cfg.magic, CONFIG_MAGIC, sizeof(cfg.magic)))
		fail("no %s blob: not a VM of this VMM", CONFIG_BLOB);
	if (cfg.mem_size != m->mem_size || cfg.nr_vcpus != (uint32_t)m->o.nr_vcpus)
		fail("the VM has %llu MiB and %u vCPUs, this VMM %lu and %d",
		     (unsigned long long)cfg.mem_size >> 20, cfg.nr_vcpus,
		     m->o.mem_mb, m->o.nr_vcpus);
	for (i = 0; i < m->vm.nr_vcpus; i++) {
		if (seen[i] != (1U << NR_STATE_FIELDS) - 1)
			fail("incomplete state for vCPU %d", i);
		ret = __vmm_vcpu_load(&m->vm.vcpus[i], &st[i]);
		if (ret)
			fail("loading vCPU %d: %s: %s (rip=0x%llx cr0=0x%llx mp_state=%u exception=%u/%u interrupt=%u/%u nmi=%u/%u flags=0x%x)",
			     i, vmm_state_step, strerror(-ret),
			     (unsigned long long)st[i].regs.rip,
			     (unsigned long long)st[i].sregs.cr0,
			     st[i].mp_state.mp_state,
			     st[i].events.exception.injected,
			     st[i].events.exception.nr,
			     st[i].events.interrupt.injected,
			     st[i].events.interrupt.nr,
			     st[i].events.nmi.injected, st[i].events.nmi.pending,
			     st[i].events.flags);
	}
	m->cfg = cfg;
	m->o.rate = cfg.rate;	/* for the running checks' default */
	status("loaded blobs=%u", index);
}

/* ARRIVED: load the state, check the memory, then let the guest run. */
static void do_arrive(struct mig_vmm *m)
{
	char extra[64] = "";
	bool digest_ok = true;
	uint64_t digest;
	int ret;

	m->arrived_ns = now_ns();
	load_blobs(m);
	if (m->cfg.flags & CONFIG_F_DIGEST) {
		digest = ab_digest(m->mem, m->mem_size);
		digest_ok = digest == m->cfg.digest;
		snprintf(extra, sizeof(extra), " digest=%s", digest_ok ? "ok" : "bad");
	}
	if (!check_memory(m, "arrived", extra) || !digest_ok)
		fail("the memory that arrived fails the A-B check%s",
		     digest_ok ? "" : " or differs from the source's");
	ret = kvmmig_session_ack(m->sfd, KVMMIG_SESSION_ARRIVED);
	if (ret == -ESTALE || ret == -EBUSY)
		return;		/* aborted meanwhile: the next state says so */
	if (ret)
		fail("acknowledging the arrival: %s", strerror(-ret));
	m->have_guest = true;
	resume_vcpus(m);
	start_check(m, "running");
}

static void cleanup(struct mig_vmm *m)
{
	int i;

	if (m->vm_live)
		vmm_destroy(&m->vm);
	m->vm_live = false;
	if (m->sfd >= 0)
		close(m->sfd);
	m->sfd = -1;
	munmap(m->mem, m->mem_size);
	for (i = 0; i < m->o.nr_regions; i++)
		close(m->region_fds[i]);
}

/* Follow the session's state; returns an exit status, or -1 to go on. */
static int session_event(struct mig_vmm *m)
{
	int state = kvmmig_session_state(m->sfd);
	bool resumed = false;

	if (state < 0)
		fail("reading the session state: %s", strerror(-state));
	if ((uint32_t)state == m->state)
		return -1;
	m->state = state;

	switch (m->state) {
	case KVMMIG_SESSION_RUNNING:
		if (m->arrived_ns) {
			/* After our own ack: the vCPUs already run. */
			status("state=running resume_ms=%.1f",
			       ms_since(m->arrived_ns));
			m->arrived_ns = 0;
			return -1;
		}
		/* Resumed after a failed migration. */
		if (m->have_guest && !m->running) {
			resume_vcpus(m);
			resumed = true;
		}
		status("state=running%s", resumed ? " resumed=1" : "");
		return -1;
	case KVMMIG_SESSION_PAUSING:
		status("state=pausing");
		do_pause(m);
		return -1;
	case KVMMIG_SESSION_ARRIVED:
		status("state=arrived");
		do_arrive(m);
		return -1;
	case KVMMIG_SESSION_DONE:
		cancel_check(m, "handed-over");
		if (m->running)
			pause_vcpus(m);
		status("state=done");
		return 0;
	case KVMMIG_SESSION_ABORTED:
		status("state=aborted");
		return EXIT_ABORTED;
	default:
		status("state=%s", state_name(m->state));
		return -1;
	}
}

static void command(struct mig_vmm *m, char *line)
{
	unsigned long rate;
	uint32_t incs[VMM_MAX_VCPUS];
	char *arg;
	int ret;

	arg = strchr(line, ' ');
	if (arg)
		*arg++ = '\0';
	if (!strcmp(line, "check")) {
		if (!m->running)
			status("verdict=check running=no state=%s",
			       state_name(m->state));
		else if (!m->check)
			start_check(m, "check");
	} else if (!strcmp(line, "rate") && arg) {
		rate = strtoul(arg, NULL, 0);
		ret = ab_set_rate(m->mem, m->o.nr_vcpus, rate, m->tsc_khz);
		m->o.rate = ret ? m->o.rate : rate;
		status("rate=%lu%s", m->o.rate, ret ? " error=rate not possible" : "");
	} else if (!strcmp(line, "status")) {
		ab_incs(m->mem, m->o.nr_vcpus, incs);
		status("state=%s running=%d incs=%u passes=%u", state_name(m->state),
		       m->running, incs[0], ab_ctl(m->mem, 0)->passes);
	} else if (!strcmp(line, "quit")) {
		status("quit");
		cleanup(m);
		exit(0);
	} else if (*line) {
		status("error=unknown command %s", line);
	}
}

static void read_stdin(struct mig_vmm *m)
{
	ssize_t n;
	char *nl;

	n = read(STDIN_FILENO, m->in + m->in_len, sizeof(m->in) - 1 - m->in_len);
	if (n <= 0) {
		if (n < 0 && errno == EINTR)
			return;
		m->stdin_open = false;
		return;
	}
	m->in_len += n;
	m->in[m->in_len] = '\0';
	while ((nl = strchr(m->in, '\n'))) {
		*nl = '\0';
		command(m, m->in);
		m->in_len -= nl + 1 - m->in;
		memmove(m->in, nl + 1, m->in_len + 1);
	}
	if (m->in_len == sizeof(m->in) - 1)
		m->in_len = 0;	/* an overlong line: drop it */
}

static int loop(struct mig_vmm *m)
{
	struct signalfd_siginfo si;
	struct pollfd pfd[3];
	int ret, nfds;

	for (;;) {
		pfd[0] = (struct pollfd){ .fd = m->sfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = m->sigfd, .events = POLLIN };
		nfds = 2;
		if (m->stdin_open)
			pfd[nfds++] = (struct pollfd){ .fd = STDIN_FILENO,
						       .events = POLLIN };
		ret = poll(pfd, nfds, m->check ? 20 : 1000);
		if (ret < 0 && errno != EINTR)
			fail("poll: %s", strerror(errno));
		if (pfd[1].revents & POLLIN &&
		    read(m->sigfd, &si, sizeof(si)) == sizeof(si)) {
			status("exit signal=%u", si.ssi_signo);
			return 0;
		}
		/* Also on timeouts: a missed wake-up costs at most a second. */
		ret = session_event(m);
		if (ret >= 0)
			return ret;
		if (nfds > 2 && pfd[2].revents)
			read_stdin(m);
		if (m->check && m->running)
			poll_check(m);
	}
}

int main(int argc, char **argv)
{
	struct mig_vmm m;
	struct vmm_args args;
	sigset_t set;
	int i, ret;

	memset(&m, 0, sizeof(m));
	m.sfd = -1;
	m.stdin_open = true;
	parse_args(&m.o, argc, argv);
	signal(SIGPIPE, SIG_IGN);

	/* vCPU threads inherit this mask; they unblock only their kick. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	m.sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (m.sigfd < 0)
		fail("signalfd: %s", strerror(errno));

	m.dev = __kvmmig_open();
	if (m.dev < 0)
		fail("opening %s: %s", KVMMIG_DEV_PATH, strerror(-m.dev));
	create_memory(&m);
	ret = __vmm_create(&m.vm, m.mem, m.mem_size, 0);
	if (ret)
		fail("creating the VM: %s", strerror(-ret));
	m.vm_live = true;
	if (!m.o.incoming)
		ab_setup(&m.vm, m.o.nr_vcpus);
	for (i = 0; i < m.o.nr_vcpus; i++) {
		struct vmm_vcpu *vcpu;

		ab_args(&m.vm, m.o.nr_vcpus, i, &args);
		ret = __vmm_vcpu_add(&m.vm, &args, &vcpu);
		if (ret)
			fail("adding vCPU %d: %s", i, strerror(-ret));
	}
	m.tsc_khz = __vmm_vcpu_tsc_khz(&m.vm.vcpus[0]);
	if (!m.o.incoming && m.o.rate &&
	    ab_set_rate(m.mem, m.o.nr_vcpus, m.o.rate, m.tsc_khz))
		fail("cannot pace %d vCPUs to %llu pages/s (TSC %ld kHz)",
		     m.o.nr_vcpus, (unsigned long long)m.o.rate, m.tsc_khz);

	create_session(&m);
	status("session name=%s id=%u mem_mb=%lu regions=%d vcpus=%d rate=%llu pid=%d",
	       m.o.name, m.id, m.o.mem_mb, m.o.nr_regions, m.o.nr_vcpus,
	       (unsigned long long)m.o.rate, (int)getpid());
	if (!m.o.incoming) {
		m.have_guest = true;
		resume_vcpus(&m);
	}
	ret = loop(&m);
	cleanup(&m);
	return ret;
}
