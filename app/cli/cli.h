#pragma once
#include "common/reporter.h"
#include "common/status.h"
#include "ir/graph.h"

#include <memory>

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ew::cli {

/// Exit codes shared by every subcommand (scripts and tests depend on them).
enum ExitCode : int {
    kExitOk = 0,
    kExitFailure = 1,      ///< anything else: I/O, unsupported, internal
    kExitUsage = 2,        ///< bad arguments
    kExitInvalidInput = 3, ///< the model is malformed or missing
};

/// One option a subcommand accepts. An option with an empty `valueName` is a flag.
struct OptionSpec {
    std::string_view longName; ///< without the leading "--"
    char shortName = 0;        ///< 0 when there is none
    std::string_view valueName;
    std::string_view help;
};

/// Options and positionals after parsing; repeated options keep their last value in `options`
/// and every value, in order, in `repeated` (for options like `run --input NAME=FILE`).
struct ParsedArgs {
    std::map<std::string, std::string, std::less<>> options;
    std::map<std::string, std::vector<std::string>, std::less<>> repeated;
    std::vector<std::string> positionals;

    std::vector<std::string> values(std::string_view name) const {
        auto it = repeated.find(name);
        return it == repeated.end() ? std::vector<std::string>{} : it->second;
    }

    bool flag(std::string_view name) const { return options.contains(name); }
    std::string value(std::string_view name, std::string def = {}) const {
        auto it = options.find(name);
        return it == options.end() ? def : it->second;
    }
};

struct GlobalOptions {
    bool quiet = false;
    bool verbose = false;
};

/// A subcommand: its name, help text, options and entry point. Commands are listed in
/// commands.def; the dispatcher parses options from the spec (so every command gets --help, and
/// unknown options are refused the same way everywhere) and calls `run`.
struct Command {
    std::string_view name;
    std::string_view summary;     ///< one line for the top-level help
    std::string_view usage;       ///< "inspect MODEL... [--json]"
    std::string_view description; ///< paragraphs shown by `<command> --help`
    std::vector<OptionSpec> options;
    std::size_t minPositionals = 0;
    std::size_t maxPositionals = 0;
    int (*run)(const ParsedArgs& args, const GlobalOptions& global) = nullptr;
};

#define EW_CLI_COMMAND(fn) const Command& fn();
#include "commands.def"
#undef EW_CLI_COMMAND

/// Every subcommand, in commands.def order.
std::span<const Command* const> commands();

/// Parses argv of a subcommand (after its name) against its spec.
Result<ParsedArgs> parseArgs(const Command& cmd, std::span<const std::string> args);
std::string commandHelp(const Command& cmd);

/// The whole program: returns the process exit code.
int runCli(int argc, char** argv);

/// Prints "edgewise-cli: <status>" on stderr and returns the exit code for it. `modelError`
/// marks failures reading the model, where NotFound and InvalidInput mean exit code 3.
int reportError(const Status& s, bool modelError);
/// loadModel with the checks every command wants first: a missing path is NotFound (exit 3)
/// rather than an I/O error.
Result<std::unique_ptr<ir::Model>> loadModelForCli(const std::string& path, Reporter& reporter);

/// A usage error with a hint to the command's help; returns kExitUsage.
int usageError(std::string_view command, std::string_view message);

} // namespace ew::cli
