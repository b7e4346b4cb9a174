"""The live socket transport: /ws/exam/ for students and proctors.

`consumers` (the endpoint, whose outbox sends its pushes), `frames` (the client frames and the
envelope), `usecases` (each frame's one database hop), `batches` (hops shared by many sockets),
`presence` (who is connected, across processes), `handlers` (exams' signals turned into pushes) and
`routing`. Storing events and validating their payloads is `monitoring.ingest`; every pushed frame
is built and sent by `monitoring.pushes` (over `monitoring.broadcast`), which ingest may use too.
"""
