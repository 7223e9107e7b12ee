// SPDX-License-Identifier: GPL-2.0
/*
 * migd: moves a kvmmig migration session's pages between hosts.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: migd [OPTIONS]\n"
		"\n"
		"Live-migrate KVM guests whose RAM is owned by kvmmig.ko.\n"
		"Migration is not implemented yet; this build only answers\n"
		"--help and --version.\n"
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
