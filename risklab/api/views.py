from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.idempotency import IDEMPOTENCY_KEY, idempotent
from common.api.parsers import body_object
from common.errors import NotFound

from .. import selectors, services
from .serializers import MonteCarloInSerializer, MonteCarloSerializer


class StaffView(APIView):
    permission_classes = [permissions.IsAdminUser]


class MonteCarloListView(StaffView):
    """Monte Carlo runs of the vectorised core: queue one (its chunks go to the simulations queue), or list them."""

    @extend_schema(responses=MonteCarloSerializer(many=True))
    def get(self, request):
        return Response([MonteCarloSerializer.from_run(run) for run in selectors.montecarlo_list(limit=50)])

    @extend_schema(request=MonteCarloInSerializer, responses={202: MonteCarloSerializer}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def post(self, request):
        serializer = MonteCarloInSerializer(data=body_object(request))
        serializer.is_valid(raise_exception=True)
        run = services.montecarlo_create(actor=request.user, **serializer.validated_data)
        return Response(MonteCarloSerializer.from_run(selectors.montecarlo_get(run_id=run.pk)),
                        status=status.HTTP_202_ACCEPTED)


class MonteCarloDetailView(StaffView):
    @extend_schema(responses=MonteCarloSerializer)
    def get(self, request, run_id: int):
        run = selectors.montecarlo_get(run_id=run_id)
        if run is None:
            raise NotFound(f"No Monte Carlo run {run_id}.", code="not_found")
        return Response(MonteCarloSerializer.from_run(run))
