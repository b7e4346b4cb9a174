"""The live socket transport: /ws/exam/ for students and proctors.

`consumers` (the endpoint), `frames` (the protocol's vocabulary and validation), `usecases` (each
frame's one database hop), `batches` (hops shared by many sockets), `presence` (who is connected,
across processes), `broadcast` (group names and bounded channel-layer sends), `handlers` (exams'
signals turned into pushes) and `routing`. Storing events and scoring them is `monitoring.ingest`.
"""
