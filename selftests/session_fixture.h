/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixture the session tests share: two regions, the arguments of a
 * session over them, and a netlink socket that plays migd.
 */
#ifndef _KVMMIG_SESSION_FIXTURE_H
#define _KVMMIG_SESSION_FIXTURE_H

#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvmmig_util.h"
#include "nl_util.h"
#include "session_util.h"

#define PAGE		4096UL
#define SIZE		(16 * PAGE)

/* Hidden from the compiler, which rejects a literal NULL buffer. */
void *volatile bad_ptr;

FIXTURE(session) {
	int dev;
	int r[2];
	struct kvmmig_create_session args;
	struct nlk k;
};

FIXTURE_SETUP(session)
{
	struct kvmmig_api api;

	self->dev = __kvmmig_open();
	ASSERT_LE(0, self->dev);
	memset(&api, 0, sizeof(api));
	ASSERT_EQ(0, __kvmmig_get_api(self->dev, &api));
	if (!(api.features & KVMMIG_FEATURE_SESSION))
		SKIP(return, "the module has no sessions");
	self->r[0] = kvmmig_region(self->dev, SIZE, "st-ram0", -1);
	ASSERT_LE(0, self->r[0]);
	self->r[1] = kvmmig_region(self->dev, SIZE, "st-ram1", -1);
	ASSERT_LE(0, self->r[1]);
	memset(&self->args, 0, sizeof(self->args));
	self->args.nr_regions = 2;
	self->args.region_fds = (uintptr_t)self->r;
	strcpy(self->args.name, "st");
	ASSERT_EQ(0, __nlk_open(&self->k));
}

FIXTURE_TEARDOWN(session)
{
	nlk_close(&self->k);
	close(self->dev);
}

static int create(FIXTURE_DATA(session) *self)
{
	return __kvmmig_create_session(self->dev, &self->args);
}


/* Move session @id with netlink command @cmd; 0 or -errno. */
static int nl_cmd(FIXTURE_DATA(session) *self, __u8 cmd, __u32 id)
{
	return __nlk_session_cmd(&self->k, cmd, id, NULL);
}

/* A session in PAUSING: the state in which the VMM puts blobs. */
static int create_pausing(FIXTURE_DATA(session) *self)
{
	int fd = create(self), ret;

	if (fd < 0)
		return fd;
	ret = nl_cmd(self, KVMMIG_CMD_SESSION_PAUSE, self->args.id);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

#endif /* _KVMMIG_SESSION_FIXTURE_H */
