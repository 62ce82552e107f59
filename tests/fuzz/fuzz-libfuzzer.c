/*
 * Copyright (c) 2026 The ovs-vhu authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at:
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

/* libFuzzer's entry points for one fuzz target, the one whose struct
 * vhu_fuzz_target the build names with -DVHU_FUZZ_TARGET=...  (see "make
 * fuzz" in tests/automake.mk). */

#include <config.h>

#include "fuzz.h"

#include "util.h"

#ifndef VHU_FUZZ_TARGET
#error "build with -DVHU_FUZZ_TARGET=vhu_fuzz_NAME"
#endif

int LLVMFuzzerInitialize(int *argc, char **argv[]);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc OVS_UNUSED, char **argv[])
{
    set_program_name((*argv)[0]);
    vhu_fuzz_init(false);
    if (VHU_FUZZ_TARGET.init) {
        VHU_FUZZ_TARGET.init();
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    VHU_FUZZ_TARGET.run(data, size);
    return 0;
}
