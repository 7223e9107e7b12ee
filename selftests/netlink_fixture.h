/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixture the netlink tests share: two regions, a request socket (the
 * test plays migd) and one joined to the "events" group.
 */
#ifndef _KVMMIG_NETLINK_FIXTURE_H
#define _KVMMIG_NETLINK_FIXTURE_H

#include <string.h>

#include "kselftest_harness.h"
#include "kvmmig_util.h"
#include "nl_rows.h"
#include "nl_util.h"
#include "session_util.h"

#define PAGE		4096UL
#define SIZE		(64 * PAGE)
#define EVENT_MS	5000	/* generous: a missing event fails, not a slow one */

FIXTURE(nl) {
	int dev;
	int r[2];
	int sfd;
	__u32 id;
	struct nlk k;		/* requests: the test plays migd */
	struct nlk ev;		/* the "events" group */
	struct nlk_ext ext;
};

static bool have_sessions(int dev)
{
	struct kvmmig_api api;

	memset(&api, 0, sizeof(api));
	return !__kvmmig_get_api(dev, &api) &&
	       (api.features & KVMMIG_FEATURE_SESSION);
}

FIXTURE_SETUP(nl)
{
	int ret;

	self->sfd = -1;
	self->dev = __kvmmig_open();
	ASSERT_LE(0, self->dev);
	if (!have_sessions(self->dev))
		SKIP(return, "the module has no sessions");
	ret = __nlk_open(&self->k);
	ASSERT_EQ(0, ret) TH_LOG("family %s: %d", KVMMIG_GENL_NAME, ret);
	ASSERT_EQ(0, __nlk_open(&self->ev));
	ASSERT_EQ(0, __nlk_join_events(&self->ev));
	self->r[0] = kvmmig_region(self->dev, SIZE, "nl-ram0", -1);
	ASSERT_LE(0, self->r[0]);
	self->r[1] = kvmmig_region(self->dev, 2 * SIZE, "nl-ram1", -1);
	ASSERT_LE(0, self->r[1]);
}

FIXTURE_TEARDOWN(nl)
{
	if (self->sfd >= 0)
		close(self->sfd);
	nlk_close(&self->k);
	nlk_close(&self->ev);
	close(self->dev);
}

/* Create session @name and eat its creation event. */
#define NEW_SESSION(name, flags) do {					\
	struct nlk_event __ev;						\
									\
	self->sfd = kvmmig_session(self->dev, name, flags, self->r, 2,	\
				   &self->id);				\
	ASSERT_LE(0, self->sfd) TH_LOG("%s", strerror(-self->sfd));	\
	ASSERT_EQ(0, nlk_next_event(&self->ev, &__ev, EVENT_MS));	\
	ASSERT_EQ(self->id, __ev.id);					\
	ASSERT_EQ(KVMMIG_REASON_CREATED, __ev.reason);			\
} while (0)

/* Command @cmd on the fixture's session, and its event. */
#define CMD_OK(cmd, to) do {						\
	struct nlk_event __ev;						\
	int __ret = __nlk_session_cmd(&self->k, cmd, self->id,		\
				      &self->ext);			\
									\
	ASSERT_EQ(0, __ret) TH_LOG("cmd %d: %s (%s)", cmd,		\
				   strerror(-__ret), self->ext.msg);	\
	ASSERT_EQ(0, nlk_next_event(&self->ev, &__ev, EVENT_MS));	\
	ASSERT_EQ(self->id, __ev.id);					\
	ASSERT_EQ(to, __ev.state);					\
	ASSERT_EQ(KVMMIG_REASON_REQUEST, __ev.reason);			\
	ASSERT_EQ(to, kvmmig_session_state(self->sfd));			\
} while (0)

#endif /* _KVMMIG_NETLINK_FIXTURE_H */
