#include "cli.h"

// The whole CLI lives in cli.cpp and the cmd_*.cpp files so that the dispatcher and the
// commands can grow without touching the entry point.
int main(int argc, char** argv) {
    return ew::cli::runCli(argc, argv);
}
