#include "cli.h"
#include "conformance_runner.h"
#include "run_support.h"

#include "common/file_util.h"
#include "common/json_writer.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ew::cli {

namespace {

struct OpCounts {
    int total = 0, passed = 0, failed = 0, skipped = 0;
};

std::optional<double> parseTolerance(const std::string& s) {
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || !(v >= 0) || v > 1e6) return std::nullopt;
    return v;
}

/// Test names, one per line; '#' starts a comment, blank lines are ignored.
Result<std::set<std::string>> readExpected(const std::string& path) {
    std::ifstream f(path);
    if (!f) return fail(Status{StatusCode::NotFound, "cannot read the expectation file", path, {}});
    std::set<std::string> names;
    std::string line;
    while (std::getline(f, line)) {
        if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
            line.pop_back();
        std::size_t start = line.find_first_not_of(" \t");
        if (start != std::string::npos) names.insert(line.substr(start));
    }
    return names;
}

const char* outcomeName(Outcome o) {
    return o == Outcome::Pass ? "pass" : o == Outcome::Fail ? "fail" : "skip";
}

int runConformance(const ParsedArgs& args, const GlobalOptions& global) {
    ConformanceOptions opts;
    if (args.flag("threads")) {
        auto n = parseCount(args.value("threads"));
        if (!n || *n < 1 || *n > 1024)
            return usageError("conformance", "--threads needs a number from 1 to 1024");
        opts.threads = static_cast<int>(*n);
    }
    for (const char* name : {"rtol", "atol"}) {
        if (!args.flag(name)) continue;
        auto v = parseTolerance(args.value(name));
        if (!v)
            return usageError("conformance",
                              std::string("--") + name + " needs a non-negative number");
        (name[0] == 'r' ? opts.rtol : opts.atol) = *v;
    }
    int64_t minPassed = 0;
    if (args.flag("min-passed")) {
        auto n = parseCount(args.value("min-passed"));
        if (!n) return usageError("conformance", "--min-passed needs a non-negative number");
        minPassed = *n;
    }
    const bool json = args.flag("json");
    const std::string filter = args.value("filter");
    // Per-test lines go to stdout, or to stderr when stdout carries the JSON document.
    FILE* lines = json ? stderr : stdout;
    const bool printLines = !(json && global.quiet);

    std::optional<std::set<std::string>> expected;
    if (args.flag("expected")) {
        auto e = readExpected(args.value("expected"));
        if (!e) return reportError(e.error(), true);
        expected = std::move(*e);
    }

    std::vector<ConformanceCase> cases;
    for (const std::string& dir : args.positionals) {
        auto found = discoverConformanceTests(dir);
        if (!found) return reportError(found.error(), true);
        for (ConformanceCase& c : *found)
            if (filter.empty() || c.name.find(filter) != std::string::npos)
                cases.push_back(std::move(c));
    }

    std::vector<CaseResult> results;
    results.reserve(cases.size());
    int passed = 0, failed = 0, skipped = 0;
    std::map<std::string, OpCounts> byOp;
    std::map<std::string, int> skipCategories;
    std::map<std::string, int> failingOps;
    for (const ConformanceCase& c : cases) {
        CaseResult r = runConformanceCase(c, opts);
        (r.outcome == Outcome::Pass ? passed : r.outcome == Outcome::Fail ? failed : skipped)++;
        if (r.outcome == Outcome::Skip) ++skipCategories[r.category];
        for (const std::string& op : r.ops) {
            OpCounts& oc = byOp[op];
            ++oc.total;
            (r.outcome == Outcome::Pass   ? oc.passed
             : r.outcome == Outcome::Fail ? oc.failed
                                          : oc.skipped)++;
            if (r.outcome == Outcome::Fail) ++failingOps[op];
        }
        if (printLines) {
            if (r.outcome == Outcome::Pass)
                std::fprintf(lines, "PASS %s\n", r.name.c_str());
            else
                std::fprintf(lines, "%s %s: %s\n", r.outcome == Outcome::Fail ? "FAIL" : "SKIP",
                             r.name.c_str(), r.reason.c_str());
            std::fflush(lines);
        }
        results.push_back(std::move(r));
    }

    // Regressions against the expectation file: every expected test the filter selects must pass.
    std::vector<std::string> regressions, newlyPassing;
    if (expected) {
        std::map<std::string, const CaseResult*> byName;
        for (const CaseResult& r : results)
            byName[r.name] = &r;
        for (const std::string& name : *expected) {
            if (!filter.empty() && name.find(filter) == std::string::npos) continue;
            auto it = byName.find(name);
            if (it == byName.end())
                regressions.push_back(name + ": expected to pass, not found");
            else if (it->second->outcome != Outcome::Pass)
                regressions.push_back(name + ": expected to pass, " +
                                      outcomeName(it->second->outcome) + ": " + it->second->reason);
        }
        for (const CaseResult& r : results)
            if (r.outcome == Outcome::Pass && !expected->contains(r.name))
                newlyPassing.push_back(r.name);
    }
    if (args.flag("write-expected")) {
        std::string text =
            "# Conformance tests expected to pass (edgewise-cli conformance --write-expected).\n"
            "# A test listed here that does not pass is a regression.\n";
        std::vector<std::string> names;
        for (const CaseResult& r : results)
            if (r.outcome == Outcome::Pass) names.push_back(r.name);
        std::sort(names.begin(), names.end());
        for (const std::string& n : names)
            text += n + "\n";
        if (auto w = writeBytesAtomically(
                args.value("write-expected"),
                std::as_bytes(std::span<const char>(text.data(), text.size())));
            !w)
            return reportError(w.error(), false);
    }

    const bool belowThreshold = passed < minPassed;
    const bool ok = !belowThreshold && (expected ? regressions.empty() : failed == 0);

    std::vector<std::pair<std::string, int>> topFailing(failingOps.begin(), failingOps.end());
    std::stable_sort(topFailing.begin(), topFailing.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });

    if (json) {
        JsonWriter w(2);
        w.beginObject();
        w.key("total").value(static_cast<int64_t>(results.size()));
        w.key("passed").value(passed);
        w.key("failed").value(failed);
        w.key("skipped").value(skipped);
        w.key("ok").value(ok);
        if (args.flag("min-passed")) w.key("min_passed").value(minPassed);
        w.key("skipped_by_category").beginObject();
        for (const auto& [cat, n] : skipCategories)
            w.key(cat).value(n);
        w.endObject();
        w.key("by_op").beginObject();
        for (const auto& [op, oc] : byOp) {
            w.key(op).beginObject();
            w.key("total").value(oc.total);
            w.key("passed").value(oc.passed);
            w.key("failed").value(oc.failed);
            w.key("skipped").value(oc.skipped);
            w.endObject();
        }
        w.endObject();
        for (Outcome kind : {Outcome::Skip, Outcome::Fail}) {
            w.key(kind == Outcome::Skip ? "skipped_tests" : "failed_tests").beginArray();
            for (const CaseResult& r : results) {
                if (r.outcome != kind) continue;
                w.beginObject();
                w.key("name").value(r.name);
                if (kind == Outcome::Skip) w.key("category").value(r.category);
                w.key("reason").value(r.reason);
                w.endObject();
            }
            w.endArray();
        }
        w.key("passed_tests").beginArray();
        for (const CaseResult& r : results)
            if (r.outcome == Outcome::Pass) w.value(r.name);
        w.endArray();
        if (expected) {
            w.key("regressions").beginArray();
            for (const std::string& s : regressions)
                w.value(s);
            w.endArray();
            w.key("newly_passing").beginArray();
            for (const std::string& s : newlyPassing)
                w.value(s);
            w.endArray();
        }
        w.endObject();
        std::printf("%s\n", w.str().c_str());
    }

    FILE* summary = json ? stderr : stdout;
    if (!(json && global.quiet)) {
        if (skipped) {
            std::fprintf(summary, "\nSkipped (%d):", skipped);
            for (const auto& [cat, n] : skipCategories)
                std::fprintf(summary, " %s %d", cat.c_str(), n);
            std::fprintf(summary, "\n");
            for (const CaseResult& r : results)
                if (r.outcome == Outcome::Skip)
                    std::fprintf(summary, "  %s: %s\n", r.name.c_str(), r.reason.c_str());
        }
        if (!topFailing.empty()) {
            std::fprintf(summary, "\nOps in failing tests:");
            for (std::size_t i = 0; i < topFailing.size() && i < 15; ++i)
                std::fprintf(summary, "%s %s %d", i ? "," : "", topFailing[i].first.c_str(),
                             topFailing[i].second);
            std::fprintf(summary, "\n");
        }
        for (const std::string& s : newlyPassing)
            std::fprintf(summary, "newly passing, add it to the expectation file: %s\n", s.c_str());
        for (const std::string& s : regressions)
            std::fprintf(summary, "REGRESSION %s\n", s.c_str());
        std::fprintf(summary, "\nconformance: %zu tests, %d passed, %d failed, %d skipped",
                     results.size(), passed, failed, skipped);
        if (args.flag("min-passed"))
            std::fprintf(summary, " (need >= %lld passed)", static_cast<long long>(minPassed));
        if (expected)
            std::fprintf(summary, "; %zu regressions, %zu newly passing", regressions.size(),
                         newlyPassing.size());
        std::fprintf(summary, "\n");
        if (belowThreshold)
            std::fprintf(summary, "conformance: FAILED: %d passed, below the threshold of %lld\n",
                         passed, static_cast<long long>(minPassed));
    }
    return ok ? kExitOk : kExitFailure;
}

} // namespace

const Command& conformanceCommand() {
    static const Command kCommand{
        .name = "conformance",
        .summary = "Run ONNX-style test folders (model + test_data_set_N) through the CPU runtime.",
        .usage = "conformance DIR... [--json] [--filter SUBSTR] [--threads N] [--expected FILE] "
                 "[--min-passed N]",
        .description =
            "Finds tests under each DIR, recursively: DIR/model.onnx with DIR/test_data_set_N/\n"
            "(the ONNX backend test layout), X.onnx with X.test_data_set_N/ beside it, or a\n"
            "folder's only X.onnx with test_data_set_N/ (the real-model layouts). Each data set's\n"
            "input_K.pb feeds the K-th graph input that is not an initializer; every output_K.pb\n"
            "is compared with the ONNX backend tolerances: rtol 1e-3, atol 1e-7 (atol 1e-4 for\n"
            "the real-model layouts, whose references come from a peer runtime), integers and\n"
            "bools exactly, NaN equal to NaN. Test names are DIR's last component plus the path\n"
            "below it (\"onnx-backend-tests/node/test_abs\").\n"
            "\n"
            "One line per test: PASS, FAIL with the output and its max abs/rel error, or SKIP\n"
            "with the reason: sequence/optional inputs or outputs, element types the runtime does\n"
            "not run (bfloat16, float8, 4- and 2-bit, string, complex), opset newer than the\n"
            "runtime supports, no kernel for an op (named). A model whose ops all have kernels\n"
            "but whose session cannot be created fails. Then the skip list, the ops of failing\n"
            "tests and a summary line; --json prints total, passed, failed, skipped, by_op,\n"
            "skipped_tests and failed_tests on stdout instead (the lines go to stderr).\n"
            "\n"
            "Exit code 0 when nothing failed; with --expected FILE (test names expected to pass,\n"
            "one per line), 0 when none of those regressed, whatever else fails (tests passing\n"
            "that the file lacks are reported as newly passing). --min-passed N also fails the\n"
            "run when fewer than N tests pass.\n",
        .options = {{"json", 0, {}, "Machine-readable results on stdout."},
                    {"filter", 'f', "SUBSTR", "Only tests whose name contains SUBSTR."},
                    {"threads", 't', "N", "Threads per session (default: physical cores)."},
                    {"rtol", 0, "X", "Relative tolerance for every test (default 1e-3)."},
                    {"atol", 0, "X",
                     "Absolute tolerance for every test (default 1e-7, real models 1e-4)."},
                    {"expected", 0, "FILE",
                     "Fail only on regressions from this list of passing tests."},
                    {"write-expected", 0, "FILE", "Write the names of the passing tests to FILE."},
                    {"min-passed", 0, "N", "Fail when fewer than N tests pass."}},
        .minPositionals = 1,
        .maxPositionals = 1000,
        .run = runConformance,
    };
    return kCommand;
}

} // namespace ew::cli
