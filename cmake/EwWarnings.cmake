# Warnings every Edgewise target gets; third-party headers come in as SYSTEM includes.
function(ew_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
endfunction()
