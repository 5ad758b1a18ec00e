# The toolkit's image, `librechat-ops:<version>` (pyproject's version): the operator's Deployment
# (`python -m k8s_operator`, leader-elected) and the ChaosSchedule CronJobs (`chaos run
# /experiments/<experiment>.json`) both run it. No image is published: build and push your own,
#   docker build -t registry.example.com/librechat-ops:0.1.0 .
# and pass it to `librechat-ops operator install --image` and the ChaosSchedules' `spec.image`.
# Runs as uid/gid 10001 with a read-only root file system (Pod Security `restricted`); the
# CronJob mounts an emptyDir at /tmp for the journal and the log.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Every package of pyproject's list, and what setup.py copies into the wheel (the Pulumi program).
COPY pyproject.toml setup.py constraints.txt README.md Pulumi.yaml ./
COPY librechat_ops ./librechat_ops
COPY localplatform ./localplatform
COPY librechat_sim ./librechat_sim
COPY autoscaler ./autoscaler
COPY components ./components
COPY k8s_operator ./k8s_operator
COPY loadtests ./loadtests
COPY chaos ./chaos
COPY slos ./slos
COPY stacks ./stacks
RUN pip install --constraint constraints.txt . \
    && rm -rf /src

# The experiments at the path the CronJob's command names.
COPY chaos/experiments /experiments

RUN groupadd --gid 10001 librechat \
    && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/librechat librechat
USER 10001:10001
WORKDIR /home/librechat
ENV HOME=/home/librechat
