#include "cli.h"

#include "ir/io/model_io.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

#ifndef EW_VERSION
#define EW_VERSION "unknown"
#endif

namespace ew::cli {

namespace {

// Options every subcommand accepts, shown at the end of each command's help.
const std::vector<OptionSpec>& commonOptions() {
    static const std::vector<OptionSpec> kCommon = {
        {"quiet", 'q', {}, "No progress output and no informational messages."},
        {"verbose", 'v', {}, "Also print debug messages."},
        {"help", 'h', {}, "Show this help and exit."},
    };
    return kCommon;
}

const OptionSpec* findOption(const Command& cmd, std::string_view longName, char shortName) {
    for (const auto* list : {&cmd.options, &commonOptions()})
        for (const OptionSpec& o : *list)
            if ((!longName.empty() && o.longName == longName) ||
                (shortName && o.shortName == shortName))
                return &o;
    return nullptr;
}

void appendOptionHelp(std::string& out, const std::vector<OptionSpec>& opts) {
    for (const OptionSpec& o : opts) {
        std::string left = "  ";
        left += o.shortName ? std::string("-") + o.shortName + ", " : std::string("    ");
        left += "--" + std::string(o.longName);
        if (!o.valueName.empty()) left += " " + std::string(o.valueName);
        if (left.size() < 26)
            left.append(26 - left.size(), ' ');
        else
            left += "  ";
        out += left + std::string(o.help) + "\n";
    }
}

std::string topLevelHelp() {
    std::string h =
        "Usage: edgewise-cli [--version] [--list-formats] [--help] [-q|-v] COMMAND [ARGS...]\n"
        "\n"
        "Edgewise command-line tool: inspect, convert and (later) run and optimize neural-network\n"
        "models without the GUI.\n"
        "\n"
        "Commands:\n";
    for (const Command* c : commands()) {
        std::string left = "  " + std::string(c->name);
        left.append(left.size() < 14 ? 14 - left.size() : 1, ' ');
        h += left + std::string(c->summary) + "\n";
    }
    h += "\n"
         "Options:\n"
         "  -h, --help              Show this help; `edgewise-cli COMMAND --help` shows a "
         "command's.\n"
         "      --version           Print the version and exit.\n"
         "      --list-formats      List the model formats and what Edgewise can do with each.\n"
         "  -q, --quiet             No progress output and no informational messages.\n"
         "  -v, --verbose           Also print debug messages.\n"
         "\n"
         "Exit codes: 0 success, 1 failure, 2 usage error, 3 invalid or missing model.\n";
    return h;
}

int listFormats() {
    std::printf("%-8s %-10s %-6s %s\n", "format", "extension", "read", "write");
#define EW_FORMAT(e, name, ext, load, save)                                                        \
    std::printf("%-8s %-10s %-6s %s\n", name, ext, (load) ? "yes" : "no", (save) ? "yes" : "no");
#include "ir/io/formats.def"
#undef EW_FORMAT
    return kExitOk;
}

const Command* findCommand(std::string_view name) {
    for (const Command* c : commands())
        if (c->name == name) return c;
    return nullptr;
}

} // namespace

std::span<const Command* const> commands() {
    static const Command* const kCommands[] = {
#define EW_CLI_COMMAND(fn) &fn(),
#include "commands.def"
#undef EW_CLI_COMMAND
    };
    return kCommands;
}

Result<ParsedArgs> parseArgs(const Command& cmd, std::span<const std::string> args) {
    ParsedArgs out;
    bool optionsEnded = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (optionsEnded || a.size() < 2 || a[0] != '-') {
            out.positionals.push_back(a);
            continue;
        }
        if (a == "--") {
            optionsEnded = true;
            continue;
        }
        const OptionSpec* spec = nullptr;
        std::string inlineValue;
        bool hasInline = false;
        if (a.starts_with("--")) {
            std::string_view body = std::string_view(a).substr(2);
            if (auto eq = body.find('='); eq != std::string_view::npos) {
                inlineValue = std::string(body.substr(eq + 1));
                hasInline = true;
                body = body.substr(0, eq);
            }
            spec = findOption(cmd, body, 0);
        } else {
            spec = findOption(cmd, {}, a[1]);
            if (spec && a.size() > 2) {
                // "-oOUT": the rest of the word is the value (flags take none).
                inlineValue = a.substr(2);
                hasInline = true;
            }
        }
        if (!spec) return fail(StatusCode::Usage, "unknown option '" + a + "'");
        std::string name(spec->longName);
        if (spec->valueName.empty()) {
            if (hasInline) return fail(StatusCode::Usage, "option '--" + name + "' takes no value");
            out.options[name] = "";
            continue;
        }
        if (hasInline) {
            out.options[name] = inlineValue;
            out.repeated[name].push_back(inlineValue);
        } else if (i + 1 < args.size()) {
            out.options[name] = args[++i];
            out.repeated[name].push_back(args[i]);
        } else {
            return fail(StatusCode::Usage, "option '--" + name + "' needs a value (" +
                                               std::string(spec->valueName) + ")");
        }
    }
    if (out.flag("help")) return out; // help wins over positional counts
    if (out.positionals.size() < cmd.minPositionals)
        return fail(StatusCode::Usage,
                    "missing argument; usage: edgewise-cli " + std::string(cmd.usage));
    if (out.positionals.size() > cmd.maxPositionals)
        return fail(StatusCode::Usage, "unexpected argument '" +
                                           out.positionals[cmd.maxPositionals] +
                                           "'; usage: edgewise-cli " + std::string(cmd.usage));
    return out;
}

std::string commandHelp(const Command& cmd) {
    std::string h = "Usage: edgewise-cli " + std::string(cmd.usage) + "\n\n";
    h += std::string(cmd.description);
    if (!h.ends_with('\n')) h += '\n';
    if (!cmd.options.empty()) {
        h += "\nOptions:\n";
        appendOptionHelp(h, cmd.options);
    }
    h += "\nCommon options:\n";
    appendOptionHelp(h, commonOptions());
    h += "\nExit codes: 0 success, 1 failure, 2 usage error, 3 invalid or missing model.\n";
    return h;
}

int reportError(const Status& s, bool modelError) {
    std::fprintf(stderr, "edgewise-cli: %s\n", s.toString().c_str());
    switch (s.code) {
    case StatusCode::Ok:
        return kExitOk;
    case StatusCode::Usage:
        return kExitUsage;
    case StatusCode::InvalidInput:
        return modelError ? kExitInvalidInput : kExitFailure;
    case StatusCode::NotFound:
        return modelError ? kExitInvalidInput : kExitFailure;
    default:
        return kExitFailure;
    }
}

Result<std::unique_ptr<ir::Model>> loadModelForCli(const std::string& path, Reporter& reporter) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        return fail(Status{StatusCode::NotFound, "no such file", path, {}});
    return ir::loadModel(path, ir::LoadOptions{}, reporter);
}

int usageError(std::string_view command, std::string_view message) {
    std::fprintf(stderr, "edgewise-cli: %.*s\n", static_cast<int>(message.size()), message.data());
    if (command.empty())
        std::fprintf(stderr, "Try 'edgewise-cli --help'.\n");
    else
        std::fprintf(stderr, "Try 'edgewise-cli %.*s --help'.\n", static_cast<int>(command.size()),
                     command.data());
    return kExitUsage;
}

int runCli(int argc, char** argv) {
    std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + std::max(argc, 1));
    GlobalOptions global;
    std::size_t i = 0;
    for (; i < args.size() && args[i].starts_with("-"); ++i) {
        const std::string& a = args[i];
        if (a == "-h" || a == "--help") {
            std::fputs(topLevelHelp().c_str(), stdout);
            return kExitOk;
        }
        if (a == "--version") {
            std::printf("edgewise-cli %s\n", EW_VERSION);
            return kExitOk;
        }
        if (a == "--list-formats") return listFormats();
        if (a == "-q" || a == "--quiet") {
            global.quiet = true;
            continue;
        }
        if (a == "-v" || a == "--verbose") {
            global.verbose = true;
            continue;
        }
        return usageError({}, "unknown option '" + a + "'");
    }
    if (i == args.size()) return usageError({}, "no command given");
    std::string name = args[i++];
    if (name == "help") {
        if (i == args.size()) {
            std::fputs(topLevelHelp().c_str(), stdout);
            return kExitOk;
        }
        name = args[i];
        const Command* c = findCommand(name);
        if (!c) return usageError({}, "unknown command '" + name + "'");
        std::fputs(commandHelp(*c).c_str(), stdout);
        return kExitOk;
    }
    const Command* cmd = findCommand(name);
    if (!cmd) return usageError({}, "unknown command '" + name + "'");
    auto parsed = parseArgs(*cmd, std::span<const std::string>(args).subspan(i));
    if (!parsed) return usageError(cmd->name, parsed.error().message);
    if (parsed->flag("help")) {
        std::fputs(commandHelp(*cmd).c_str(), stdout);
        return kExitOk;
    }
    global.quiet = global.quiet || parsed->flag("quiet");
    global.verbose = global.verbose || parsed->flag("verbose");
    return cmd->run(*parsed, global);
}

} // namespace ew::cli
