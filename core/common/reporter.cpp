#include "reporter.h"

namespace ew {

Reporter& nullReporter() {
    static Reporter instance;
    return instance;
}

} // namespace ew
