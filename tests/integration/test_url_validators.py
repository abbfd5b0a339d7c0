"""LAMBDA validators whose Content is an http(s) URL (lever cannot call
Lambda; docs/appconfig.md): leverd POSTs the content and a 2xx answer means
valid. ValidateConfiguration, StartDeployment and Lever.CheckConfiguration
run them; a refusal is a BadRequestException naming the validator, and a
validator that hangs holds neither the (only) event loop nor the call past
the validator's timeout. The receiver is a local http.server."""
import threading

import botocore.exceptions

from ac_helpers import AppConfigCase, ac_clients
from test_hooks import Receiver

DEADLINE = 20.0


class UrlValidators(AppConfigCase):
    # One event loop: a validator call made on it would stall every request.
    LEVERD_KW = {"extra_args": ["--threads", "1"]}

    def setUp(self):
        super().setUp()
        self.recv = Receiver()
        self.addCleanup(self.recv.close)

    def profile_with(self, path):
        return self.tree(Validators=[{"Type": "LAMBDA", "Content": self.recv.url(path)}])

    def refused(self, fn, **kw):
        try:
            fn(**kw)
        except botocore.exceptions.ClientError as e:
            self.assertEqual(e.response["Error"]["Code"], "BadRequestException", e.response)
            return e.response["Error"]["Message"]
        self.fail("%s was not refused" % fn.__name__)

    def test_answer_decides_and_content_is_posted(self):
        ok = self.profile_with("/ok")
        self.ac.validate_configuration(ApplicationId=ok["app"], ConfigurationProfileId=ok["prof"],
                                       ConfigurationVersion=str(ok["ver"]))
        got = self.recv.wait(lambda r: r["path"] == "/ok", "the validator call")
        self.assertEqual(got[-1]["body"], b'{"a": 1}')
        self.assertEqual(self.deploy(ok, ok["ver"])["State"], "COMPLETE")
        bad = self.profile_with("/deny")
        msg = self.refused(self.ac.validate_configuration, ApplicationId=bad["app"],
                           ConfigurationProfileId=bad["prof"], ConfigurationVersion=str(bad["ver"]))
        self.assertIn("403", msg)
        self.refused(self.ac.start_deployment, ApplicationId=bad["app"], EnvironmentId=bad["env"],
                     DeploymentStrategyId="Lever.AllAtOnce", ConfigurationProfileId=bad["prof"],
                     ConfigurationVersion=str(bad["ver"]))
        self.assertEqual(self.ac.list_deployments(ApplicationId=bad["app"], EnvironmentId=bad["env"])["Items"], [])
        # Lever.CheckConfiguration runs it too, on content not yet stored
        st, _h, p, _raw = self.server.call_raw("Lever.CheckConfiguration",
                                               {"Application": bad["app"], "ConfigurationProfile": bad["prof"],
                                                "Content": '{"a": 2}'})
        self.assertEqual(st, 200, p)
        self.assertIn("403", str(p))
        self.recv.wait(lambda r: r["path"] == "/deny" and r["body"] == b'{"a": 2}', "the check's validator call")

    def test_hanging_validator_does_not_stall_other_requests(self):
        t = self.profile_with("/hang")
        out = {}
        ac2, _ = ac_clients(self.server)

        def validate():
            try:
                ac2.validate_configuration(ApplicationId=t["app"], ConfigurationProfileId=t["prof"],
                                           ConfigurationVersion=str(t["ver"]))
                out["ok"] = True
            except Exception as e:  # noqa: BLE001
                out["e"] = e

        th = threading.Thread(target=validate, daemon=True)
        th.start()
        self.recv.wait(lambda r: r["path"] == "/hang", "the hanging validator call")
        # While it hangs (up to the validator's 5 s timeout), the same
        # (only) event loop serves everyone else.
        for i in range(10):
            self.ssm.put_parameter(Name=self.n("p%d" % i), Value="v", Type="String")
            self.assertEqual(self.ssm.get_parameter(Name=self.n("p%d" % i))["Parameter"]["Value"], "v")
        self.assertTrue(th.is_alive(), "the validation should still wait on its validator")
        self.recv.release.set()
        th.join(DEADLINE)
        self.assertFalse(th.is_alive())
        self.assertNotIn("e", out, out.get("e"))


if __name__ == "__main__":
    import unittest
    unittest.main()
