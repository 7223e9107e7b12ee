// SPDX-License-Identifier: GPL-2.0
/*
 * migd: moves a kvmmig migration session's pages between hosts.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: migd [OPTIONS]\n"
		"       migd verify [-q] FILE|-\n"
		"\n"
		"Live-migrate KVM guests whose RAM is owned by kvmmig.ko.\n"
		"Migration is not implemented yet; this build answers --help\n"
		"and --version, and checks saved migration streams.\n"
		"\n"
		"Commands:\n"
		"  verify FILE|-    check a migration stream and summarise it\n"
		"                   (\"migd verify --help\" for its options)\n"
		"\n"
		"Options:\n"
		"  -h, --help       show this help and exit\n"
		"  -V, --version    show the version and exit\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help",    no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	/* Subcommands parse their own options. */
	if (argc > 1 && !strcmp(argv[1], "verify"))
		return migd_verify_main(argc - 1, argv + 1);

	while ((opt = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'V':
			printf("migd %s\n", MIGD_VERSION);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_FAILURE;
		}
	}

	usage(stderr);
	return EXIT_FAILURE;
}
