// SPDX-License-Identifier: GPL-2.0
/*
 * migd: moves a VM between hosts.  This file picks the subcommand and owns
 * the cancel flag that SIGINT and SIGTERM set; the subcommands are in
 * the files next to it (subcommands.h).
 */

#include <signal.h>
#include <string.h>

#include "common/cancel.h"
#include "cmdline.h"
#include "subcommands.h"

/* SIGINT and SIGTERM ask the migration to stop; whatever waits is handed it. */
static struct migd_cancel cancel;

static void on_signal(int sig)
{
	(void)sig;
	cancel.requested = 1;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked call returns EINTR and sees the flag. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
	struct migd_cmdline c;
	int ret;

	/* Subcommands parse their own options. */
	if (argc > 1 && !strcmp(argv[1], "verify"))
		return migd_verify_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "list"))
		return migd_list_main(argc - 1, argv + 1);

	ret = migd_cmdline_parse(&c, argc, argv);
	if (ret) {
		migd_cmdline_free(&c);
		return ret;
	}
	install_signals();
	if (c.cancel)
		ret = migd_cancel_main(c.cancel, c.timeout_ms, &cancel);
	else if (c.listen)
		ret = migd_receive_main(&c, &cancel);
	else
		ret = migd_send_main(&c, &cancel);
	migd_cmdline_free(&c);
	return ret;
}
