"""Helpers for the rollout tests: a leverd at a high --time-scale, an
AppConfig tree with several hosted versions, polling GetDeployment with a
deadline, and GetConfiguration as an entity (raw signed REST, so the
rollout headers are visible)."""

import os
import sys
import time

from ac_helpers import AppConfigCase, signed_rest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import bucketing  # noqa: E402  (the independent reference implementation)

DEADLINE = 60.0


class RolloutCase(AppConfigCase):
    SCALE = 600
    LEVERD_KW = {"extra_args": ["--time-scale", str(SCALE)]}

    def versions(self, n=2, monitors=None):
        """App, env (with monitors), hosted profile with versions 1..n whose
        content is b"v<i>"; version 1 deployed (Lever.AllAtOnce)."""
        a = self.app(self._testMethodName[:40] + "-%d" % time.monotonic_ns())
        kw = {"Monitors": monitors} if monitors else {}
        e = self.ac.create_environment(ApplicationId=a["Id"], Name="prod", **kw)
        p = self.ac.create_configuration_profile(ApplicationId=a["Id"], Name="cfg", LocationUri="hosted")
        for i in range(1, n + 1):
            self.ac.create_hosted_configuration_version(ApplicationId=a["Id"], ConfigurationProfileId=p["Id"],
                                                        Content=b"v%d" % i, ContentType="text/plain")
        t = {"app": a["Id"], "env": e["Id"], "prof": p["Id"]}
        self.start(t, 1, "Lever.AllAtOnce")
        return t

    def start(self, t, version, strategy, **kw):
        return self.ac.start_deployment(ApplicationId=t["app"], EnvironmentId=t["env"],
                                        DeploymentStrategyId=strategy, ConfigurationProfileId=t["prof"],
                                        ConfigurationVersion=str(version), **kw)

    def get(self, t, n):
        return self.ac.get_deployment(ApplicationId=t["app"], EnvironmentId=t["env"], DeploymentNumber=n)

    def env_state(self, t):
        return self.ac.get_environment(ApplicationId=t["app"], EnvironmentId=t["env"])["State"]

    def until(self, t, n, pred, what, deadline=DEADLINE, seen=None):
        """Polls GetDeployment until pred(d); seen collects the percentages."""
        end = time.monotonic() + deadline
        d = None
        while time.monotonic() < end:
            d = self.get(t, n)
            if seen is not None:
                seen.append(d["PercentageComplete"])
            if pred(d):
                return d
            time.sleep(0.02)
        self.fail("deployment %d never %s: %r" % (n, what, d))

    def serve(self, t, client_id, side=None):
        """GetConfiguration as client_id: (version served, headers)."""
        h = {"x-lever-rollout-side": side} if side else None
        st, rh, _p, body = signed_rest(self.server, "GET", "/applications/%s/environments/%s/configurations/%s" %
                                       (t["app"], t["env"], t["prof"]), headers=h,
                                       query="client_id=%s" % client_id)
        self.assertEqual(st, 200, body)
        self.assertEqual(body, b"v" + rh["configuration-version"].encode())
        return rh["configuration-version"], rh

    @staticmethod
    def in_share(seed, entity, pct):
        return bucketing.bucket(seed, entity) < bucketing.threshold(pct)

    @staticmethod
    def events(d):
        """The EventLog oldest first, as (type, triggered by, description, time)."""
        return [(e["EventType"], e["TriggeredBy"], e["Description"], e["OccurredAt"]) for e in reversed(d["EventLog"])]

    @staticmethod
    def percentages(d):
        out = []
        for e in reversed(d["EventLog"]):
            if e["EventType"] == "PERCENTAGE_UPDATED":
                out.append(float(e["Description"].split(" to ")[1].split("%")[0]))
        return out
