// End to end on real measure records: 400 of the shipped dataset
// (data/cpu-avx512-t2: 40 random programs of each of 10 ResNet-50 / ResNeXt-50
// conv tasks, measured on an AMD EPYC with AVX-512 on 2 threads). tcl-train
// holds out a seeded fifth of the tasks, trains on the rest and must rank the
// held-out programs clearly better than chance: pairwise accuracy >= 0.65
// (random: 0.5) and top-5 at least 0.2 above a random ranking's.
// RUN: tcl-train --database=%S/Inputs/conv-records.jsonl --model=mamba --epochs=20 --torch-threads=1 --json=%t.mamba.json 2>%t.log | FileCheck %s
// RUN: %python %S/Inputs/beats_random.py %t.mamba.json 0.65 0.2 | FileCheck %s --check-prefix=BEATS
// RUN: tcl-train --database=%S/Inputs/conv-records.jsonl --model=mlp --epochs=20 --torch-threads=1 --json=%t.mlp.json 2>>%t.log
// RUN: %python %S/Inputs/beats_random.py %t.mlp.json 0.65 0.2 | FileCheck %s --check-prefix=BEATS

// CHECK: network {{ *}}tasks{{ *}}top-1{{ *}}top-5{{ *}}pairwise{{ *}}random-top1{{ *}}random-top5
// CHECK-NEXT: held-out tasks 2
// BEATS: held-out tasks: {{.*}}: beats random
