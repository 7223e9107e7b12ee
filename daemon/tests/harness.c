// SPDX-License-Identifier: GPL-2.0
/*
 * The harness of the host tests (see harness.h).
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "harness.h"

const char *cur_test;
int cur_failed;
int verbose;

static const char *only;

void check_fail(int line, const char *fmt, ...)
{
	va_list ap;

	if (!cur_failed)
		printf("# FAIL %s\n", cur_test);
	cur_failed++;
	printf("#   line %d: ", line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void harness_init(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v"))
			verbose = 1;
		else
			only = argv[i];
	}
}

static bool selected(const struct harness_test *test)
{
	return !only || strstr(test->name, only);
}

int harness_run(const struct harness_test *tests, size_t n)
{
	int passed = 0, failed = 0, planned = 0;

	for (size_t i = 0; i < n; i++)
		planned += selected(&tests[i]);
	printf("TAP version 13\n1..%d\n", planned);
	for (size_t i = 0; i < n; i++) {
		uint64_t start = migd_now_ns();

		if (!selected(&tests[i]))
			continue;
		cur_test = tests[i].name;
		cur_failed = 0;
		tests[i].fn();
		if (verbose)
			printf("# %s took %.1f s\n", cur_test,
			       (double)(migd_now_ns() - start) / MIGD_NSEC_PER_SEC);
		if (cur_failed)
			failed++;
		else
			passed++;
		printf("%s %d %s\n", cur_failed ? "not ok" : "ok",
		       passed + failed, cur_test);
		fflush(stdout);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

void harness_main(int argc, char **argv, const struct harness_test *tests, size_t n,
		  int (*setup)(void))
{
	harness_init(argc, argv);
	if (setup && setup())
		exit(2);
	exit(harness_run(tests, n));
}
