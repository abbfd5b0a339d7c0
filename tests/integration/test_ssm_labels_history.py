"""LabelParameterVersion / UnlabelParameterVersion and how labels show up in
selectors and GetParameterHistory."""

import unittest

from lever_harness import LeverTestCase


class LabelsTest(LeverTestCase):
    def make(self, versions=3):
        name = self.n("p")
        for i in range(1, versions + 1):
            self.put(name, "v%d" % i, Overwrite=(i > 1))
        return name

    def labels_by_version(self, name):
        h = self.ssm.get_parameter_history(Name=name)["Parameters"]
        return {x["Version"]: sorted(x.get("Labels", [])) for x in h}

    def test_label_latest_by_default(self):
        name = self.make()
        r = self.ssm.label_parameter_version(Name=name, Labels=["current"])
        self.assertEqual(r["ParameterVersion"], 3)
        self.assertEqual(r.get("InvalidLabels", []), [])
        self.assertEqual(self.labels_by_version(name), {1: [], 2: [], 3: ["current"]})

    def test_label_specific_version_and_selector(self):
        name = self.make()
        r = self.ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["first", "Orig_1.x-y"])
        self.assertEqual(r["ParameterVersion"], 1)
        self.assertEqual(self.ssm.get_parameter(Name=name + ":first")["Parameter"]["Value"], "v1")
        self.assertEqual(self.ssm.get_parameter(Name=name + ":Orig_1.x-y")["Parameter"]["Value"], "v1")
        # labels are case sensitive
        self.assertAwsError(("ParameterVersionNotFound", "ParameterNotFound"), self.ssm.get_parameter,
                            Name=name + ":FIRST")

    def test_move_label(self):
        name = self.make()
        self.ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["prod"])
        self.assertEqual(self.ssm.get_parameter(Name=name + ":prod")["Parameter"]["Version"], 1)
        self.ssm.label_parameter_version(Name=name, ParameterVersion=3, Labels=["prod"])
        p = self.ssm.get_parameter(Name=name + ":prod")["Parameter"]
        self.assertEqual((p["Version"], p["Value"]), (3, "v3"))
        self.assertEqual(self.labels_by_version(name), {1: [], 2: [], 3: ["prod"]})
        # relabelling the same version is idempotent
        self.ssm.label_parameter_version(Name=name, ParameterVersion=3, Labels=["prod"])
        self.assertEqual(self.labels_by_version(name), {1: [], 2: [], 3: ["prod"]})

    def test_ten_labels_per_version(self):
        name = self.make(2)
        ten = ["l%d" % i for i in range(10)]
        self.ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=ten)
        self.assertEqual(self.labels_by_version(name)[1], sorted(ten))
        self.assertAwsError("ParameterVersionLabelLimitExceeded", self.ssm.label_parameter_version,
                            Name=name, ParameterVersion=1, Labels=["eleventh"])
        self.assertNotIn("eleventh", self.labels_by_version(name)[1])
        # re-adding an existing label is not an 11th label
        self.ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["l0"])
        # another version has its own budget
        self.ssm.label_parameter_version(Name=name, ParameterVersion=2, Labels=["eleventh"])
        # more than 10 labels in one request exceed the version's limit too
        self.assertAwsError("ParameterVersionLabelLimitExceeded",
                            self.ssm.label_parameter_version, Name=name, ParameterVersion=2,
                            Labels=["m%d" % i for i in range(11)])

    def test_invalid_labels(self):
        name = self.make(1)
        bad = ["1starts-with-digit", "awsLabel", "AWSlabel", "ssmthing", "SSMx", "has space", "semi;colon",
               "slash/x", "colon:x"]
        r = self.ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=bad[:5] + ["good"])
        self.assertEqual(sorted(r["InvalidLabels"]), sorted(bad[:5]))
        self.assertEqual(self.labels_by_version(name)[1], ["good"])
        r = self.ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=bad[5:])
        self.assertEqual(sorted(r["InvalidLabels"]), sorted(bad[5:]))
        self.assertEqual(self.labels_by_version(name)[1], ["good"])

    def test_label_length(self):
        name = self.make(1)
        ok = "L" * 100
        r = self.ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=[ok])
        self.assertEqual(r.get("InvalidLabels", []), [])
        too_long = "M" * 101
        try:
            r = self.ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=[too_long])
        except Exception as e:  # noqa: BLE001
            self.assertEqual(e.response["Error"]["Code"], "ValidationException")
        else:
            self.assertEqual(r.get("InvalidLabels"), [too_long])
        self.assertEqual(self.labels_by_version(name)[1], [ok])

    def test_label_errors(self):
        name = self.make(2)
        self.assertAwsError("ParameterVersionNotFound", self.ssm.label_parameter_version,
                            Name=name, ParameterVersion=9, Labels=["x"])
        self.assertAwsError("ParameterNotFound", self.ssm.label_parameter_version,
                            Name=self.n("missing"), Labels=["x"])
        self.assertAwsError("ParameterNotFound", self.ssm.unlabel_parameter_version,
                            Name=self.n("missing"), ParameterVersion=1, Labels=["x"])
        self.assertAwsError("ParameterVersionNotFound", self.ssm.unlabel_parameter_version,
                            Name=name, ParameterVersion=9, Labels=["x"])

    def test_unlabel(self):
        name = self.make(2)
        self.ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["a", "b", "c"])
        r = self.ssm.unlabel_parameter_version(Name=name, ParameterVersion=1, Labels=["a", "nope", "c"])
        self.assertEqual(sorted(r["RemovedLabels"]), ["a", "c"])
        self.assertEqual(r["InvalidLabels"], ["nope"])
        self.assertEqual(self.labels_by_version(name), {1: ["b"], 2: []})
        # a label on another version is not removed through this version
        self.ssm.label_parameter_version(Name=name, ParameterVersion=2, Labels=["z"])
        r = self.ssm.unlabel_parameter_version(Name=name, ParameterVersion=1, Labels=["z"])
        self.assertEqual(r.get("RemovedLabels", []), [])
        self.assertEqual(r["InvalidLabels"], ["z"])
        self.assertEqual(self.labels_by_version(name), {1: ["b"], 2: ["z"]})
        self.assertAwsError(("ParameterVersionNotFound", "ParameterNotFound"), self.ssm.get_parameter,
                            Name=name + ":a")

    def test_labels_deleted_with_parameter(self):
        name = self.make(1)
        self.ssm.label_parameter_version(Name=name, Labels=["keep"])
        self.ssm.delete_parameter(Name=name)
        self.put(name, "new")
        self.assertEqual(self.labels_by_version(name), {1: []})
        self.assertAwsError(("ParameterVersionNotFound", "ParameterNotFound"), self.ssm.get_parameter,
                            Name=name + ":keep")

    def test_labels_survive_restart(self):
        name = self.make(2)
        self.ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["durable"])
        self.server.restart()
        ssm = type(self).ssm = self.server.client()
        p = ssm.get_parameter(Name=name + ":durable")["Parameter"]
        self.assertEqual((p["Version"], p["Value"]), (1, "v1"))


if __name__ == "__main__":
    unittest.main()
