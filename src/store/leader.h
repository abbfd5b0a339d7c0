/* leader.h - which node drives a deployment's clock when several leverd
 * nodes share one PostgreSQL: the one holding a session-level advisory
 * lock named after the deployment. The lock goes with the session, so a
 * node that dies (or loses its connection) gives it up at once and the
 * next node to ask takes it over.
 *
 * lv_leader_is has the shape of the deployment driver's is_leader plug
 * (src/rollout/rollout.h): it is asked before each step, answers from a
 * dedicated connection (one round trip: taking the lock, or checking that
 * the session holding it is alive), and false whenever the database
 * cannot be reached (a step could not be written anyway). Locks of
 * deployments not asked about for a minute are given back. */
#ifndef LV_STORE_LEADER_H
#define LV_STORE_LEADER_H

#include <stdbool.h>

#include "core/err.h"

typedef struct lv_leader lv_leader;

/* uri: the postgres store URI. Connects lazily. */
lv_err lv_leader_open(const char *uri, lv_leader **out, lv_error *err);
/* ctx is the lv_leader. Thread-safe. */
bool lv_leader_is(void *ctx, const char *deployment_key);
/* How many deployment locks this node holds (for /metrics and tests). */
unsigned lv_leader_held(lv_leader *l);
void lv_leader_close(lv_leader *l);

#endif
