from django.urls import path
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Item


class ItemInput(serializers.ModelSerializer):
    class Meta:
        model = Item
        fields = ["name", "email", "subject", "message"]


class ItemCreate(APIView):
    def post(self, request: Request) -> Response:
        ser = ItemInput(data=request.data)
        ser.is_valid(raise_exception=True)
        item = ser.save()
        return Response({"id": item.pk}, status=status.HTTP_201_CREATED)


urlpatterns = [path("items/", ItemCreate.as_view())]
