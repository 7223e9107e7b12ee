/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The harness of the host tests: a table of tests run in order, checks
 * that report a failed condition and carry on.  It prints TAP like the
 * selftests ("ok N name", diagnostics after "# "), then "N passed,
 * N failed" (what selftests/bed/check.sh counts).  Tests print their own
 * diagnostics after "# " too.
 *
 *   PROGRAM [-v] [NAME]    -v says more; NAME runs the tests whose name
 *                          contains it
 */
#ifndef MIGD_TESTS_HARNESS_H
#define MIGD_TESTS_HARNESS_H

#include <stddef.h>
#include <string.h>

struct harness_test {
	const char *name;
	void (*fn)(void);
};

#define HARNESS_TEST(fn)	{ #fn, fn }

/* The test that runs, how many of its checks failed, and -v. */
extern const char *cur_test;
extern int cur_failed;
extern int verbose;

/* Reports a failed check at @line of the test that runs. */
void check_fail(int line, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			check_fail(__LINE__, "%s", #cond); \
	} while (0)

#define CHECK_EQ(a, b) \
	do { \
		long long _a = (long long)(a), _b = (long long)(b); \
		if (_a != _b) \
			check_fail(__LINE__, "%s == %s: %lld != %lld", #a, #b, _a, _b); \
	} while (0)

#define CHECK_STR(hay, needle) \
	do { \
		if (!strstr((hay), (needle))) \
			check_fail(__LINE__, "\"%s\" lacks \"%s\"", (hay), (needle)); \
	} while (0)

/* Reads -v and NAME; call it first, then set up what -v changes. */
void harness_init(int argc, char **argv);
/* Runs the tests NAME selects; returns main()'s exit status. */
int harness_run(const struct harness_test *tests, size_t n);

/*
 * All of main(): harness_init(), then @setup unless it is NULL (if it
 * fails, exit status 2 and no test runs), then harness_run() and exit
 * with its status.
 */
void harness_main(int argc, char **argv, const struct harness_test *tests, size_t n,
		  int (*setup)(void)) __attribute__((noreturn));

/* The main() of a program that runs the array @tests after @setup. */
#define HARNESS_MAIN(tests, setup) \
	int main(int argc, char **argv) \
	{ \
		harness_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]), setup); \
	}

#endif /* MIGD_TESTS_HARNESS_H */
