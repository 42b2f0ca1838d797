#!/usr/bin/env bash
# Regenerates the ConceptErasure CRD from the api module's classes and refreshes the committed copies
# in crds/ and in the chart's crds/ folder (Helm installs that one; a real copy, not a symlink, so
# the chart folder stands alone when copied or pushed elsewhere). The api module's CommittedCrdTest
# fails the build while crds/ differs from the classes, HelmChartTest while the chart's copy
# differs from crds/.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -pl api -DskipTests process-classes
cp api/target/classes/META-INF/fabric8/*.yml crds/
chart_crds=charts/concept-erasure-operator/crds
rm -f "$chart_crds"/*.yml
cp crds/*.yml "$chart_crds"/
echo "crds/ and $chart_crds/ refreshed:"
git status --short crds/ "$chart_crds"/
